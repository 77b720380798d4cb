"""Where accepted operations run: one worker process per operation.

``WorkerPool`` (the API server) is bounded: at most ``worker_pool_size`` engine
processes at once, the rest wait in the queue. Each Automation API operation gets its
own interpreter (Pulumi's advice: inline programs do not share a process well), and a
crash of one process is contained: the pool notices its exit and marks the operation
failed, flagging the sandbox for repair. ``recover`` does the same at start-up for
processes of an earlier server, and re-submits queued operations.

``DetachedLauncher`` (the local CLI) starts a worker that outlives the command;
``InlineDispatcher`` runs the operation in a thread of this process (tests, benchmarks).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select

from sandboxes.processes import kill_session, process_alive
from sandboxes.service.ports import EngineFactory
from sandboxes.service.schemas import OperationStatus
from sandboxes.settings import Settings
from sandboxes.store.database import Database
from sandboxes.store.models import OperationRecord

__all__ = ["DetachedLauncher", "InlineDispatcher", "WorkerPool", "pid_alive", "recover", "worker_command"]


def worker_command(operation_id: str) -> list[str]:
    return [sys.executable, "-m", "sandboxes.worker", operation_id]


def pid_alive(pid: int) -> bool:
    """True if ``pid`` runs a sandboxes worker (guards against a recycled pid after a reboot)."""
    if not process_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except PermissionError:
        return True
    except OSError:
        return False
    return b"sandboxes.worker" in cmdline


def _log_path(settings: Settings, operation_id: str) -> Path:
    path = settings.data_dir / "logs" / "operations" / f"{operation_id}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _spawn(settings: Settings, operation_id: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings.worker_env()}
    with open(_log_path(settings, operation_id), "ab") as log:
        return subprocess.Popen(worker_command(operation_id), env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def recover(db: Database) -> tuple[list[str], list[str]]:
    """At start-up: fail running operations whose worker is gone; return (failed ids, queued ids to resume)."""
    from sandboxes.service.execute import mark_dead

    host = socket.gethostname()
    failed: list[str] = []
    with db.session() as session:
        running = list(session.execute(
            select(OperationRecord.id, OperationRecord.worker_pid, OperationRecord.worker_host)
            .where(OperationRecord.status == OperationStatus.RUNNING.value)
        ))
        queued = list(session.scalars(
            select(OperationRecord.id).where(OperationRecord.status == OperationStatus.QUEUED.value)
            .order_by(OperationRecord.created_at)
        ))
    for op_id, pid, worker_host in running:
        if worker_host not in (None, host):
            continue  # another machine's worker: not ours to judge
        dead = pid is None or not pid_alive(pid)
        if dead and pid is not None and not process_alive(pid):
            # The plugins a dead worker of an earlier server left behind. Its pid cannot have been given to a
            # new session leader while these still hold it as their session id.
            kill_session(pid)
        if dead and mark_dead(db, op_id, f"worker process {pid} died (found at start-up); the next operation repairs"):
            failed.append(op_id)
    return failed, queued


class WorkerPool:
    """A bounded pool of worker processes (see module docstring)."""

    def __init__(self, settings: Settings, db: Database, size: int | None = None) -> None:
        self.settings = settings
        self.db = db
        self.size = size or settings.worker_pool_size
        self._executor = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="sandbox-op")
        self._lock = threading.Lock()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.futures: dict[str, Future[int]] = {}

    def submit(self, operation_id: str) -> None:
        with self._lock:
            if operation_id in self.futures and not self.futures[operation_id].done():
                return
            self.futures[operation_id] = self._executor.submit(self._run, operation_id)

    def _run(self, operation_id: str) -> int:
        from sandboxes.service.execute import mark_dead

        proc = _spawn(self.settings, operation_id)
        with self._lock:
            self.processes[operation_id] = proc
        code = proc.wait()
        with self._lock:
            self.processes.pop(operation_id, None)
        if code != 0:
            # A worker that died (OOM, SIGKILL) leaves its engine's plugins running: they sit in their own
            # process groups of the worker's session, holding ports and memory. Nothing of it may outlive it.
            kill_session(proc.pid)
            mark_dead(self.db, operation_id,
                      f"worker process {proc.pid} exited with code {code}; the next operation repairs the stack")
        return code

    def recover(self) -> tuple[list[str], list[str]]:
        """Start-up recovery (see ``recover``), resume queued operations, and watch workers of a previous server.

        A worker still alive from before a restart keeps its slot: a watcher waits for its
        pid to go and fails the operation if it went without recording an end.
        """
        failed, queued = recover(self.db)
        host = socket.gethostname()
        with self.db.session() as session:
            alive = list(session.execute(
                select(OperationRecord.id, OperationRecord.worker_pid)
                .where(OperationRecord.status == OperationStatus.RUNNING.value, OperationRecord.worker_host == host)
            ))
        for op_id, pid in alive:
            if pid is not None:
                with self._lock:
                    self.futures[op_id] = self._executor.submit(self._watch, op_id, pid)
        for op_id in queued:
            self.submit(op_id)
        return failed, queued

    def _watch(self, operation_id: str, pid: int, interval: float = 1.0) -> int:
        from sandboxes.service.execute import mark_dead

        while pid_alive(pid):
            time.sleep(interval)
        mark_dead(self.db, operation_id, f"worker process {pid} (of an earlier server) ended without recording "
                                         "an outcome; the next operation repairs the stack")
        return 0

    def wait(self, operation_id: str, timeout: float | None = None) -> int | None:
        future = self.futures.get(operation_id)
        return future.result(timeout=timeout) if future else None

    def shutdown(self, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=not wait)


class DetachedLauncher:
    """Starts a worker that survives the CLI command; a later ``serve`` recovers it if it dies."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def submit(self, operation_id: str) -> None:
        self.processes[operation_id] = _spawn(self.settings, operation_id)


class InlineDispatcher:
    """Runs operations in threads of this process with an injected engine (tests and benchmarks)."""

    def __init__(self, settings: Settings, db: Database, engine_factory: EngineFactory, sync: bool = False) -> None:
        self.settings = settings
        self.db = db
        self.engine_factory = engine_factory
        self.sync = sync
        self.threads: dict[str, threading.Thread] = {}

    def submit(self, operation_id: str) -> None:
        from sandboxes.service.execute import run_operation

        def run() -> None:
            run_operation(self.db, self.settings, operation_id, self.engine_factory())

        if self.sync:
            run()
            return
        thread = threading.Thread(target=run, name=f"op-{operation_id[:8]}", daemon=True)
        self.threads[operation_id] = thread
        thread.start()

    def join(self, timeout: float = 30) -> None:
        for thread in list(self.threads.values()):
            thread.join(timeout)
