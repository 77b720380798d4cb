"""A stand-in for the Pulumi engine with the same face: for benchmarks, demos without a
cluster, and the service's unit tests.

It keeps its "stacks" as JSON files next to the stack files, so separate worker
processes see one another's results exactly as they would with a real backend.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandboxes import stackfiles
from sandboxes.engine import EngineFailed, StackMissing
from sandboxes.service.ports import EventSink
from sandboxes.spec import spec_hash

__all__ = ["FakeEngine", "FakeResult"]

SECRET_MASK = "[secret]"
_SECRET_OUTPUTS = {"api_secret", "database_url"}


@dataclass
class FakeResult:
    kind: str
    result: str = "succeeded"
    changes: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"kind": self.kind, "result": self.result, "changes": self.changes, "outputs": self.outputs,
                "seconds": 0.0}


class FakeEngine:
    """Pretends to run the program: one fake resource per module, outputs like the real program's."""

    def __init__(self, stacks_dir: Path, delay: float = 0.0, fail_names: tuple[str, ...] = ("fail-engine",)) -> None:
        self.stacks_dir = stacks_dir
        self.delay = delay
        self.fail_names = fail_names
        self.state_dir = stacks_dir / ".fake-engine"

    def _state(self, slug: str) -> Path:
        return self.state_dir / f"{slug}.json"

    def _emit(self, sink: EventSink | None, **event: Any) -> None:
        if sink is not None:
            sink({"timestamp": int(time.time()), **event})

    def _load(self, slug: str) -> dict[str, Any]:
        path = self._state(slug)
        if not path.exists():
            raise StackMissing(f"no stack {slug!r} in the backend")
        data: dict[str, Any] = json.loads(path.read_text())
        return data

    def up(self, slug: str, on_event: EventSink | None = None) -> FakeResult:
        stack = stackfiles.read(stackfiles.path_for(self.stacks_dir, slug))
        if stack.spec.name in self.fail_names:
            self._emit(on_event, type="diagnostic", severity="error", message="fake failure requested by name")
            raise EngineFailed(f"{slug}: error: fake failure requested by name")
        self._emit(on_event, type="prelude")
        previous = self._load(slug) if self._state(slug).exists() else None
        steps = max(1, len(stack.spec.modules) + 2)
        for index in range(steps):
            self._emit(on_event, type="resource-pre", op="create" if previous is None else "update",
                       urn=f"urn:fake::{slug}::resource-{index}", resource_type="fake:index:Resource")
            if self.delay:
                time.sleep(self.delay / steps)
        outputs = {
            "url": f"http://{slug}.sandboxes.localhost",
            "namespace": slug,
            "api_key_id": (previous or {}).get("outputs", {}).get("api_key_id") or f"key-{secrets.token_hex(6)}",
            "api_secret": (previous or {}).get("outputs", {}).get("api_secret") or secrets.token_urlsafe(24),
            "database_url": f"postgresql://app:{secrets.token_urlsafe(12)}@{slug}-db:5432/app",
            "spec_hash": spec_hash(stack.spec),
        }
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._state(slug).write_text(json.dumps({"outputs": outputs}))
        changes = {"create": steps} if previous is None else {"update": 1, "same": steps - 1}
        self._emit(on_event, type="summary", changes=changes, seconds=self.delay)
        return FakeResult(kind="up", changes=changes, outputs=self._mask(outputs, False))

    def destroy(self, slug: str, on_event: EventSink | None = None, remove: bool = True) -> FakeResult:
        self._load(slug)
        self._emit(on_event, type="resource-pre", op="delete", urn=f"urn:fake::{slug}", resource_type="fake")
        if self.delay:
            time.sleep(self.delay)
        self._state(slug).unlink()
        return FakeResult(kind="destroy", changes={"delete": 1})

    def refresh(self, slug: str, on_event: EventSink | None = None) -> FakeResult:
        self._load(slug)
        self._emit(on_event, type="summary", changes={"same": 1}, seconds=0)
        return FakeResult(kind="refresh", changes={"same": 1})

    def repair(self, slug: str, on_event: EventSink | None = None) -> list[str]:
        self._load(slug)
        self._emit(on_event, type="diagnostic", severity="info", message="repair: refreshed")
        return ["refreshed"]

    def outputs(self, slug: str, include_secrets: bool = False) -> dict[str, Any]:
        return self._mask(self._load(slug)["outputs"], include_secrets)

    @staticmethod
    def _mask(outputs: dict[str, Any], include_secrets: bool) -> dict[str, Any]:
        return {k: (v if include_secrets or k not in _SECRET_OUTPUTS else SECRET_MASK) for k, v in outputs.items()}
