"""The slice of the engine driver the reconciler needs, as a protocol.

``sandboxes.engine.Engine`` satisfies it; tests pass a fake that records calls, so the
planning and scheduling rules are checked in milliseconds without a cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sandboxes.engine import OperationResult

__all__ = ["EnginePort", "EventSink"]

EventSink = Callable[[dict[str, Any]], None]


class EnginePort(Protocol):
    def stacks(self) -> list[str]: ...

    def outputs(self, slug: str, include_secrets: bool = False) -> dict[str, Any]: ...

    def up(self, slug: str, on_event: EventSink | None = None) -> OperationResult: ...

    def refresh(self, slug: str, on_event: EventSink | None = None, preview_only: bool = False) -> OperationResult: ...

    def destroy(self, slug: str, on_event: EventSink | None = None, remove: bool = True) -> OperationResult: ...
