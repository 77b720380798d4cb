"""What the service needs from the outside, as protocols, so tests inject fakes.

``EnginePort`` is the subset of ``sandboxes.engine.Engine`` the service drives;
``Dispatcher`` starts an accepted operation somewhere (a bounded pool of worker
processes in the API, a detached worker for the local CLI, a thread in unit tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Dispatcher", "EngineFactory", "EnginePort", "EventSink", "NullDispatcher", "ResultLike"]

EventSink = Callable[[dict[str, Any]], None]


class ResultLike(Protocol):
    def summary(self) -> dict[str, Any]: ...


class EnginePort(Protocol):
    def up(self, slug: str, on_event: EventSink | None = None) -> ResultLike: ...

    def destroy(self, slug: str, on_event: EventSink | None = None, remove: bool = True) -> ResultLike: ...

    def refresh(self, slug: str, on_event: EventSink | None = None) -> ResultLike: ...

    def repair(self, slug: str, on_event: EventSink | None = None) -> list[str]: ...

    def outputs(self, slug: str, include_secrets: bool = False) -> dict[str, Any]: ...


EngineFactory = Callable[[], EnginePort]


class Dispatcher(Protocol):
    def submit(self, operation_id: str) -> None: ...


class NullDispatcher:
    """Leaves operations queued: for tests of the rules alone, and for start-up resumption tests."""

    def __init__(self) -> None:
        self.submitted: list[str] = []

    def submit(self, operation_id: str) -> None:
        self.submitted.append(operation_id)
