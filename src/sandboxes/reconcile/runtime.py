"""Wiring for the shells: the real engine for a directory, and the ledger that goes with it.

The CLI asks this module, not ``sandboxes.engine``, for its engine: the shells never
import the engine driver (ARCHITECTURE.md), and tests replace ``open_engine`` with a fake.
"""

from __future__ import annotations

from pathlib import Path

from sandboxes.engine import Engine
from sandboxes.reconcile.ledger import Ledger, default_path
from sandboxes.reconcile.ports import EnginePort

__all__ = ["open_engine", "open_ledger"]


def open_engine(stacks_dir: Path) -> tuple[EnginePort, str]:
    """The engine for ``stacks_dir`` and the backend URL it talks to (part of the ledger's key)."""
    engine = Engine(stacks_dir=stacks_dir)
    return engine, engine.environment.backend_url


def open_ledger(stacks_dir: Path, backend: str, path: Path | None = None) -> Ledger:
    return Ledger(path or default_path(stacks_dir, backend), directory=stacks_dir, backend=backend)
