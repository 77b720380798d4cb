"""Wiring for the shells: the real engine for a directory, and the ledger that goes with it.

The CLI asks this module, not ``sandboxes.engine``, for its engine: the shells never
import the engine driver (ARCHITECTURE.md), and tests replace ``open_engine`` with a fake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from sandboxes.engine import Engine
from sandboxes.environment import Environment, resolve
from sandboxes.reconcile.ledger import Ledger, default_path
from sandboxes.reconcile.ports import EnginePort

__all__ = ["forcing", "open_engine", "open_ledger"]

PATCH_FORCE = "PULUMI_K8S_ENABLE_PATCH_FORCE"


@dataclass(frozen=True)
class _ForcingEnvironment(Environment):
    """The same environment, with pulumi-kubernetes told to win server-side apply conflicts."""

    def exports(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        out = super().exports(base)
        out[PATCH_FORCE] = "true"
        return out


def forcing(environment: Environment) -> Environment:
    """``environment`` for drift remediation: the declared state takes back fields another manager took."""
    return _ForcingEnvironment(**{f.name: getattr(environment, f.name) for f in fields(environment)})


def open_engine(stacks_dir: Path, force_conflicts: bool = False) -> tuple[EnginePort, str]:
    """The engine for ``stacks_dir`` and the backend URL it talks to (part of the ledger's key).

    With ``force_conflicts`` the engine's updates take field ownership from other managers
    (only for remediating drift, see ``drift``).
    """
    environment = resolve()
    engine = Engine(stacks_dir=stacks_dir, environment=forcing(environment) if force_conflicts else environment)
    return engine, engine.environment.backend_url


def open_ledger(stacks_dir: Path, backend: str, path: Path | None = None) -> Ledger:
    return Ledger(path or default_path(stacks_dir, backend), directory=stacks_dir, backend=backend)
