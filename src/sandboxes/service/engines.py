"""Choosing the engine a process drives (``SANDBOXES_ENGINE``): the real Pulumi one or the fake."""

from __future__ import annotations

from sandboxes.service.ports import EngineFactory, EnginePort
from sandboxes.settings import EngineKind, Settings

__all__ = ["engine_factory", "make_engine"]


def make_engine(settings: Settings) -> EnginePort:
    if settings.engine == EngineKind.FAKE:
        from sandboxes.service.fake_engine import FakeEngine

        return FakeEngine(settings.effective_stacks_dir, delay=settings.fake_engine_delay)
    # Imported here: the Automation API is only needed by processes that run the engine.
    from sandboxes.engine import Engine

    return Engine(settings.effective_stacks_dir)


def engine_factory(settings: Settings) -> EngineFactory:
    return lambda: make_engine(settings)
