"""Running one operation to its end: what a worker process does.

The steps are recorded so that a crash anywhere leaves records that say the truth:
the claim (queued → running, with the worker's pid) is one conditional UPDATE, so two
workers handed the same id cannot both run it; every engine event is stored as it
arrives; the end state and the engine's secret-free summary are written last. If the
previous operation on the sandbox died (``needs_repair``), ``Engine.repair`` runs first.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from sandboxes import stackfiles
from sandboxes.engine import EngineError, EngineFailed, StackMissing
from sandboxes.processes import children
from sandboxes.service.core import API_OWNER, status_after_interruption
from sandboxes.service.ports import EnginePort
from sandboxes.service.schemas import OperationKind, OperationStatus, SandboxStatus
from sandboxes.settings import Settings
from sandboxes.spec import parse_spec
from sandboxes.store.database import Database
from sandboxes.store.models import EventRecord, OperationRecord, SandboxRecord

__all__ = ["MAX_ERROR", "SECRET_SIGNATURE", "cancel_requested", "claim", "finish", "interrupt_engine_on_cancel",
           "mark_dead", "run_operation", "scrub"]

MAX_ERROR = 4000


def claim(db: Database, operation_id: str, pid: int | None = None) -> bool:
    """Take a queued operation for this process; False if someone else has (or it was cancelled)."""
    with db.session() as session:
        result = session.execute(
            update(OperationRecord)
            .where(OperationRecord.id == operation_id, OperationRecord.status == OperationStatus.QUEUED.value)
            .values(status=OperationStatus.RUNNING.value, started_at=datetime.now(UTC),
                    worker_pid=pid if pid is not None else os.getpid(), worker_host=socket.gethostname())
        )
        return bool(getattr(result, "rowcount", 0) == 1)


def cancel_requested(db: Database, operation_id: str) -> str | None:
    """Who asked to cancel this operation, or None if nobody has."""
    with db.session() as session:
        op = session.get(OperationRecord, operation_id)
        if op is None or op.cancel_requested_at is None:
            return None
        return op.cancel_requested_by or "someone"


class _Cancelled(Exception):
    """A cancel request seen between engine steps: nothing more is started."""


@contextmanager
def interrupt_engine_on_cancel(db: Database, operation_id: str, interval: float = 0.5) -> Iterator[None]:
    """While the block runs, watch for a cancel request and interrupt this process's ``pulumi`` children.

    SIGINT is what Ctrl-C sends: the engine finishes the steps in flight (asking providers
    to stop waiting), starts nothing new, writes its checkpoint and exits "canceled". Only
    for a worker process, which runs exactly one operation: every ``pulumi`` child is its own.
    """
    stop = threading.Event()

    def watch() -> None:
        signalled: set[int] = set()
        while not stop.wait(interval):
            if cancel_requested(db, operation_id) is None:
                continue
            for pid, name in children(os.getpid()):
                if name == "pulumi" and pid not in signalled:
                    try:
                        os.kill(pid, signal.SIGINT)
                    except ProcessLookupError:
                        continue
                    signalled.add(pid)

    thread = threading.Thread(target=watch, name=f"cancel-watch-{operation_id[:8]}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


#: Pulumi's marker of a secret value in serialised properties ("4dabf181..." = the secret signature).
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"
SECRET_MASK = "[secret]"


class _EventLog:
    """Stores engine events in order; the worker is the operation's only writer, so a counter is enough.

    Debug diagnostics are dropped: the language host's debug lines print resource properties
    with secrets *unmasked* (found by the real-engine test). Any other event carrying a
    serialised secret is stored with its message replaced.
    """

    def __init__(self, db: Database, operation_id: str) -> None:
        self.db = db
        self.operation_id = operation_id
        self.seq = 0

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("type") == "diagnostic" and event.get("severity") == "debug":
            return
        if SECRET_SIGNATURE in json.dumps(event, default=str):
            event = {**event, "message": "[redacted: this event carried a secret value]"}
        self.seq += 1
        with self.db.session() as session:
            session.add(EventRecord(operation_id=self.operation_id, seq=self.seq, payload=event,
                                    created_at=datetime.now(UTC)))


def scrub(db: Database, operation_id: str, secrets: list[str]) -> int:
    """Replace any of ``secrets`` in the stored events and error of an operation; returns events rewritten.

    Defence in depth after an ``up``: whatever path a secret output took into an event
    (a provider's message, a program's print), it does not stay in the records.
    """
    values = [v for v in secrets if isinstance(v, str) and len(v) >= 6]
    if not values:
        return 0
    changed = 0
    with db.session() as session:
        for record in session.scalars(select(EventRecord).where(EventRecord.operation_id == operation_id)):
            text = json.dumps(record.payload)
            if any(v in text for v in values):
                for v in values:
                    text = text.replace(json.dumps(v)[1:-1], SECRET_MASK)
                record.payload = json.loads(text)
                changed += 1
        op = session.get(OperationRecord, operation_id)
        if op is not None and op.error:
            for v in values:
                op.error = op.error.replace(v, SECRET_MASK)
    return changed


def _secret_outputs(engine: EnginePort, slug: str, masked: dict[str, Any]) -> list[str]:
    keys = [k for k, v in masked.items() if v == SECRET_MASK]
    if not keys:
        return []
    try:
        values = engine.outputs(slug, include_secrets=True)
    except Exception:
        return []
    return [str(values[k]) for k in keys if values.get(k) is not None]


def finish(db: Database, operation_id: str, status: OperationStatus, summary: dict[str, Any] | None = None,
            error: str | None = None, outputs: dict[str, Any] | None = None) -> None:
    with db.session() as session:
        op = session.get(OperationRecord, operation_id)
        if op is None:
            return
        op.status = status.value
        op.finished_at = datetime.now(UTC)
        op.summary = summary
        op.error = error[:MAX_ERROR] if error else None
        rec = session.get(SandboxRecord, op.sandbox_slug)
        if rec is None:
            return
        if status == OperationStatus.SUCCEEDED:
            if op.kind == OperationKind.DESTROY:
                session.delete(rec)
                return
            rec.status = SandboxStatus.READY.value
            rec.needs_repair = False
            if outputs and isinstance(outputs.get("url"), str):
                rec.url = outputs["url"]
        elif status == OperationStatus.CANCELLED:
            # The engine stopped cleanly: a sandbox that was up still answers; the next up finishes the job.
            rec.status = status_after_interruption(rec)
        else:
            rec.status = SandboxStatus.FAILED.value
        rec.updated_at = datetime.now(UTC)


def mark_dead(db: Database, operation_id: str, reason: str) -> bool:
    """An operation whose worker died: failed, and its sandbox flagged for repair before the next one."""
    with db.session() as session:
        op = session.get(OperationRecord, operation_id)
        if op is None or op.status not in (OperationStatus.QUEUED.value, OperationStatus.RUNNING.value):
            return False
        op.status = OperationStatus.FAILED.value
        op.finished_at = datetime.now(UTC)
        op.error = reason
        rec = session.get(SandboxRecord, op.sandbox_slug)
        if rec is not None:
            rec.needs_repair = True
            rec.status = SandboxStatus.FAILED.value
            rec.updated_at = datetime.now(UTC)
        return True


def run_operation(db: Database, settings: Settings, operation_id: str, engine: EnginePort,
                  pid: int | None = None) -> OperationStatus | None:
    """Claim and run one operation; None if it was not ours to run. Never raises for engine failures.

    A cancel request is honoured between steps here; the worker process also interrupts a
    running engine (``interrupt_engine_on_cancel``). Either way the operation ends
    ``cancelled``, with what the engine said, unless it had already succeeded.
    """
    if not claim(db, operation_id, pid):
        return None
    events = _EventLog(db, operation_id)
    error = _run_claimed(db, settings, operation_id, engine, events)
    if error is None:
        return OperationStatus.SUCCEEDED
    status = OperationStatus.FAILED
    if (who := cancel_requested(db, operation_id)) is not None:
        status, error = OperationStatus.CANCELLED, f"cancelled by {who}: {error}"
    events({"type": "operation-finished", "status": status.value})
    finish(db, operation_id, status, error=error)
    return status


def _run_claimed(db: Database, settings: Settings, operation_id: str, engine: EnginePort,
                 events: _EventLog) -> str | None:
    """The steps of a claimed operation: records a success and returns None, or returns the error."""
    with db.session() as session:
        op = session.get(OperationRecord, operation_id)
        assert op is not None
        kind, slug, spec_value = OperationKind(op.kind), op.sandbox_slug, op.spec
        rec = session.get(SandboxRecord, slug)
        needs_repair = bool(rec and rec.needs_repair)
    stacks_dir = settings.effective_stacks_dir
    outputs: dict[str, Any] | None = None

    def stop_if_cancelled() -> None:
        if cancel_requested(db, operation_id) is not None:
            raise _Cancelled("stopped before the next engine step")

    try:
        stop_if_cancelled()
        if needs_repair and kind != OperationKind.REPAIR:
            events({"type": "repair", "message": "the previous operation died: repairing the stack first"})
            try:
                for step in engine.repair(slug, on_event=events):
                    events({"type": "repair", "message": step})
            except StackMissing:
                events({"type": "repair", "message": "no stack yet: nothing to repair"})
            stop_if_cancelled()
        summary: dict[str, Any]
        if kind == OperationKind.UP:
            if spec_value is not None:
                stackfiles.write(stacks_dir, parse_spec(spec_value), owner=API_OWNER)
            result = engine.up(slug, on_event=events)
            summary = result.summary()
            outputs = summary.get("outputs") or {}
        elif kind == OperationKind.DESTROY:
            try:
                summary = engine.destroy(slug, on_event=events, remove=True).summary()
            except StackMissing:
                summary = {"kind": "destroy", "result": "succeeded", "changes": {}, "note": "no stack to destroy"}
            stackfiles.remove(stacks_dir, slug)
        elif kind == OperationKind.REFRESH:
            summary = engine.refresh(slug, on_event=events).summary()
        else:
            steps = engine.repair(slug, on_event=events)
            summary = {"kind": "repair", "result": "succeeded", "steps": steps}
    except _Cancelled as err:
        return str(err)
    except EngineFailed as err:
        return str(err) + (f"\n{err.detail}" if err.detail else "")
    except EngineError as err:
        return f"{type(err).__name__}: {err}"
    except Exception as err:  # a bug or an unexpected failure: recorded, never lost
        tail = "".join(traceback.format_exception_only(type(err), err)).strip()
        return f"internal error: {tail}"
    events({"type": "operation-finished", "status": "succeeded"})
    if outputs:
        scrub(db, operation_id, _secret_outputs(engine, slug, outputs))
    finish(db, operation_id, OperationStatus.SUCCEEDED, summary=summary, outputs=outputs)
    return None
