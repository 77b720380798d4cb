"""Cancelling operations: queued ones at once, running ones gracefully through their worker.

The engine here is the fake one, made to wait for the request the way ``pulumi`` waits on
Ctrl-C; the worker's interrupt is exercised against a real child process named ``pulumi``.
The real engine being cancelled mid-``up`` is in tests/api/test_engine_lifecycle.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sandboxes.engine import EngineFailed
from sandboxes.service import OperationStatus, SandboxService, SandboxStatus
from sandboxes.service.errors import NotFound
from sandboxes.service.execute import cancel_requested, interrupt_engine_on_cancel
from sandboxes.service.fake_engine import FakeEngine
from sandboxes.service.ports import EnginePort, EventSink, NullDispatcher
from sandboxes.service.runner import InlineDispatcher
from sandboxes.settings import Settings
from sandboxes.store.database import Database
from tests.service.fixtures import ACME, GLOBEX, make


class WaitsForCancel(FakeEngine):
    """An ``up`` that runs until its operation is asked to stop, then fails as an interrupted engine does."""

    def __init__(self, stacks_dir: Path, db: Database) -> None:
        super().__init__(stacks_dir)
        self.db = db
        self.running = threading.Event()

    def up(self, slug: str, on_event: EventSink | None = None) -> Any:
        self.running.set()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with self.db.session() as session:
                from sqlalchemy import select

                from sandboxes.store.models import OperationRecord

                asked = session.scalar(select(OperationRecord.cancel_requested_at).where(
                    OperationRecord.sandbox_slug == slug, OperationRecord.status == "running"))
            if asked is not None:
                raise EngineFailed(f"{slug}: error: update canceled")
            time.sleep(0.05)
        raise AssertionError("nobody cancelled")


def test_a_running_operation_ends_cancelled_and_frees_the_sandbox(service: SandboxService, settings: Settings,
                                                                  db: Database) -> None:
    slug = make(service)
    engine = WaitsForCancel(settings.effective_stacks_dir, db)

    def factory() -> EnginePort:
        return engine

    dispatcher = InlineDispatcher(settings, db, factory)
    service.dispatcher = dispatcher
    op_id = service.update_settings(ACME, slug, {"billing": {"invoicing": True}}).operation.id
    assert engine.running.wait(10)
    with pytest.raises(NotFound):
        service.cancel_operation(GLOBEX, op_id)
    asked = service.cancel_operation(ACME, op_id)
    assert asked.status == OperationStatus.RUNNING and asked.cancel_requested_by == ACME.name
    assert service.cancel_operation(ACME, op_id).cancel_requested_at == asked.cancel_requested_at  # idempotent
    dispatcher.join()

    op = service.get_operation(ACME, op_id)
    assert op.status == OperationStatus.CANCELLED
    assert op.error is not None and op.error.startswith(f"cancelled by {ACME.name}: ") and "canceled" in op.error
    sandbox = service.get(ACME, slug)
    assert sandbox.status == SandboxStatus.READY and not sandbox.needs_repair  # it was up before: it still is
    events = [e.event for e in service.operation_events(ACME, op_id)]
    assert events[-1] == {"type": "operation-finished", "status": "cancelled"}
    service.dispatcher = NullDispatcher()
    assert service.refresh(ACME, slug).operation.status == OperationStatus.QUEUED  # the sandbox is free again


def test_a_cancelled_queued_operation_records_who_asked(service: SandboxService) -> None:
    slug = make(service)
    service.dispatcher = NullDispatcher()
    queued = service.update_settings(ACME, slug, {"billing": {"invoicing": True}}).operation.id
    op = service.cancel_operation(ACME, queued)
    assert op.status == OperationStatus.CANCELLED and op.cancel_requested_by == ACME.name


FAKE_PULUMI = """#!/bin/sh
trap 'echo interrupted > "$1"; exit 130' INT
while :; do sleep 0.1; done
"""


def test_the_worker_interrupts_its_pulumi_child_once_a_cancel_is_requested(
        service: SandboxService, db: Database, tmp_path: Path) -> None:
    slug = make(service)
    service.dispatcher = NullDispatcher()
    op_id = service.update_settings(ACME, slug, {"billing": {"invoicing": True}}).operation.id
    from sandboxes.service.execute import claim

    assert claim(db, op_id)
    fake = tmp_path / "pulumi"  # the command name the watcher looks for among its children
    fake.write_text(FAKE_PULUMI)
    fake.chmod(0o755)
    marker = tmp_path / "interrupted"
    bystander = subprocess.Popen(["sleep", "30"])  # another child: never signalled
    child = subprocess.Popen([str(fake), str(marker)])
    try:
        with interrupt_engine_on_cancel(db, op_id, interval=0.05):
            time.sleep(0.3)
            assert child.poll() is None and cancel_requested(db, op_id) is None  # nothing asked: left alone
            service.cancel_operation(ACME, op_id)
            assert child.wait(10) == 130
        assert marker.read_text().strip() == "interrupted"
        assert bystander.poll() is None
    finally:
        for proc in (child, bystander):
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
