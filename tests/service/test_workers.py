"""Operations in real worker processes (fake engine): the pool, a SIGKILLed worker, start-up recovery."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from sandboxes.service import OperationStatus, SandboxCreate, SandboxService, SandboxStatus, SandboxUpdate
from sandboxes.service.runner import WorkerPool
from sandboxes.settings import Settings
from sandboxes.store.database import Database
from sandboxes.store.migrate import current
from tests.service.fixtures import ACME


def _wait(service: SandboxService, op_id: str, timeout: float = 60) -> OperationStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = service.get_operation(ACME, op_id).status
        if status.finished:
            return status
        time.sleep(0.1)
    raise AssertionError(f"operation {op_id} still {status} after {timeout}s")


@pytest.fixture
def slow_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"fake_engine_delay": 6.0})


def test_pool_runs_operations_in_worker_processes(settings: Settings, db: Database) -> None:
    pool = WorkerPool(settings, db, size=2)
    service = SandboxService(settings, db, dispatcher=pool)
    accepted = [service.create(ACME, SandboxCreate.model_validate({"name": f"n{i}", "modules": ["cpo"]}))
                for i in range(3)]
    for a in accepted:
        assert _wait(service, a.operation.id) == OperationStatus.SUCCEEDED
        assert service.get(ACME, a.sandbox.slug).status == SandboxStatus.READY
    log = settings.data_dir / "logs" / "operations" / f"{accepted[0].operation.id}.log"
    assert "succeeded" in log.read_text()
    pool.shutdown()


def test_sigkill_mid_up_then_next_operation_repairs_and_succeeds(slow_settings: Settings, db: Database) -> None:
    pool = WorkerPool(slow_settings, db, size=1)
    service = SandboxService(slow_settings, db, dispatcher=pool)
    first = service.create(ACME, SandboxCreate.model_validate({"name": "crash", "modules": ["cpo"]}))
    deadline = time.monotonic() + 30
    while (first.operation.id not in pool.processes
           or service.get_operation(ACME, first.operation.id).status != "running"):
        assert time.monotonic() < deadline, "worker never started"
        time.sleep(0.05)
    os.kill(pool.processes[first.operation.id].pid, signal.SIGKILL)
    assert _wait(service, first.operation.id) == OperationStatus.FAILED
    op = service.get_operation(ACME, first.operation.id)
    assert op.error and "exited with code -9" in op.error
    assert service.get(ACME, first.sandbox.slug).needs_repair
    pool.shutdown()
    # "Restart" the runner: a new pool over the same records; nothing left to recover, the next op repairs first.
    fast = slow_settings.model_copy(update={"fake_engine_delay": 0.0})
    pool2 = WorkerPool(fast, db, size=1)
    assert pool2.recover() == ([], [])
    service = SandboxService(fast, db, dispatcher=pool2)
    nxt = service.update(ACME, first.sandbox.slug, SandboxUpdate(name="after crash"))
    assert _wait(service, nxt.operation.id) == OperationStatus.SUCCEEDED
    kinds = [e.event.get("type") for e in service.operation_events(ACME, nxt.operation.id)]
    assert kinds[0] == "repair"
    assert not service.get(ACME, first.sandbox.slug).needs_repair
    pool2.shutdown()


def test_restart_fails_orphaned_running_and_resumes_queued(settings: Settings, db: Database) -> None:
    from sandboxes.service.ports import NullDispatcher
    from sandboxes.store.models import OperationRecord

    service = SandboxService(settings, db, dispatcher=NullDispatcher())
    orphan = service.create(ACME, SandboxCreate.model_validate({"name": "orphan", "modules": ["cpo"]}))
    waiting = service.create(ACME, SandboxCreate.model_validate({"name": "waiting", "modules": ["msp"]}))
    with db.session() as session:
        rec = session.get(OperationRecord, orphan.operation.id)
        assert rec is not None
        rec.status, rec.worker_pid = "running", os.getpid() + 2**22  # a pid that cannot exist
    pool = WorkerPool(settings, db, size=2)
    failed, queued = pool.recover()
    assert failed == [orphan.operation.id] and queued == [waiting.operation.id]
    assert _wait(service, waiting.operation.id) == OperationStatus.SUCCEEDED
    assert service.get_operation(ACME, orphan.operation.id).status == OperationStatus.FAILED
    pool.shutdown()


def test_migrations_are_idempotent(settings: Settings, db: Database, tmp_path: Path) -> None:
    from sandboxes.store.migrate import upgrade

    upgrade(settings.effective_database_url)
    assert current(settings.effective_database_url) == "0002"


def test_restart_watches_a_worker_still_alive_from_before(settings: Settings, db: Database) -> None:
    """A worker outliving its server keeps running; when it dies unrecorded, the new server fails its operation."""
    import subprocess
    import sys

    from sandboxes.service.ports import NullDispatcher
    from sandboxes.store.models import OperationRecord

    service = SandboxService(settings, db, dispatcher=NullDispatcher())
    op = service.create(ACME, SandboxCreate.model_validate({"name": "survivor", "modules": ["cpo"]})).operation
    # Something that looks like a worker to pid_alive (its command line names sandboxes.worker).
    fake_worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(2)", "sandboxes.worker"])
    with db.session() as session:
        rec = session.get(OperationRecord, op.id)
        assert rec is not None
        rec.status, rec.worker_pid, rec.worker_host = "running", fake_worker.pid, socket.gethostname()
    pool = WorkerPool(settings, db, size=1)
    assert pool.recover() == ([], [])
    assert service.get_operation(ACME, op.id).status == OperationStatus.RUNNING  # alive: left alone
    fake_worker.wait()
    assert _wait(service, op.id, timeout=15) == OperationStatus.FAILED
    assert service.get(ACME, op.sandbox).needs_repair
    pool.shutdown()
