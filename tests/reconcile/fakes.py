"""A fake engine with the reconciler's port: records calls and enforces what the real one would.

It refuses to ``up`` a child whose parent stack does not exist and to ``destroy`` a
parent that still has children, so ordering bugs fail loudly instead of passing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandboxes import stackfiles
from sandboxes.engine import EngineFailed, OperationResult, StackMissing
from sandboxes.spec import parse_spec, spec_hash

EventSink = Callable[[dict[str, Any]], None]


class FakeEngine:
    def __init__(self, stacks_dir: Path, delay: float = 0.0) -> None:
        self.stacks_dir = stacks_dir
        self.state: dict[str, dict[str, Any]] = {}  # slug -> outputs
        self.parents: dict[str, str | None] = {}
        self.calls: list[tuple[str, str]] = []
        self.fail: dict[str, str] = {}
        self.drift: dict[str, dict[str, int]] = {}
        self.refreshed: set[str] = set()
        self.delay = delay
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def _enter(self, op: str, slug: str) -> None:
        with self._lock:
            self.calls.append((op, slug))
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def _leave(self) -> None:
        with self._lock:
            self.active -= 1

    def ops(self, op: str | None = None) -> list[tuple[str, str]]:
        return [c for c in self.calls if op is None or c[0] == op]

    def add_foreign(self, slug: str, owner: str = "api", parent: str | None = None) -> None:
        self.state[slug] = {"owner": owner, "spec_hash": "0" * 16, "slug": slug}
        self.parents[slug] = parent

    def stacks(self) -> list[str]:
        with self._lock:
            self.calls.append(("stacks", ""))
        return sorted(self.state)

    def outputs(self, slug: str, include_secrets: bool = False) -> dict[str, Any]:
        self._enter("outputs", slug)
        try:
            if slug not in self.state:
                raise StackMissing(f"no stack {slug!r} in the backend")
            return dict(self.state[slug])
        finally:
            self._leave()

    def up(self, slug: str, on_event: EventSink | None = None) -> OperationResult:
        self._enter("up", slug)
        try:
            time.sleep(self.delay)
            if slug in self.fail:
                raise EngineFailed(f"{slug}: error: {self.fail[slug]}")
            sf = stackfiles.read(stackfiles.path_for(self.stacks_dir, slug))
            if sf.spec.parent and sf.spec.parent not in self.state:
                raise EngineFailed(f"{slug}: error: parent {sf.spec.parent} is not ready")
            if on_event:
                on_event({"type": "resource-pre", "op": "create", "urn": f"urn::{slug}", "resource_type": "x:y:Z"})
            with self._lock:
                self.state[slug] = {"spec_hash": spec_hash(parse_spec(sf.spec.config_value())), "owner": sf.owner,
                                    "slug": slug}
                self.parents[slug] = sf.spec.parent
            return OperationResult(kind="up", result="succeeded", changes={"create": 3})
        finally:
            self._leave()

    def refresh(self, slug: str, on_event: EventSink | None = None, preview_only: bool = False) -> OperationResult:
        self._enter("refresh-preview" if preview_only else "refresh", slug)
        try:
            if slug not in self.state:
                raise StackMissing(f"no stack {slug!r} in the backend")
            changes = {"same": 3, **self.drift.get(slug, {})}
            if on_event:
                for op in self.drift.get(slug, {}):
                    on_event({"type": "resource-done", "op": op, "urn": f"urn:pulumi:s::p::t::{slug}-web"})
                on_event({"type": "summary", "changes": changes})
            if not preview_only:  # the state takes the live values: the drift is no longer visible
                self.refreshed.add(slug)
                self.drift.pop(slug, None)
            stale = {"create": 3} if preview_only else changes  # the real driver's preview-only result: last update
            return OperationResult(kind="refresh", result="succeeded", changes=stale)
        finally:
            self._leave()

    def destroy(self, slug: str, on_event: EventSink | None = None, remove: bool = True) -> OperationResult:
        self._enter("destroy", slug)
        try:
            time.sleep(self.delay)
            if slug in self.fail:
                raise EngineFailed(f"{slug}: error: {self.fail[slug]}")
            children = [c for c, p in self.parents.items() if p == slug and c in self.state]
            if children:
                raise EngineFailed(f"{slug}: error: children {children} still use it")
            with self._lock:
                self.state.pop(slug, None)
                self.parents.pop(slug, None)
            return OperationResult(kind="destroy", result="succeeded", changes={"delete": 3})
        finally:
            self._leave()
