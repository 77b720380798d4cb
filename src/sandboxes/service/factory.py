"""Assembling a service from settings: migrate the records, open them, pick a dispatcher."""

from __future__ import annotations

from enum import StrEnum

from sandboxes.service.core import SandboxService
from sandboxes.service.engines import engine_factory
from sandboxes.service.errors import Unavailable
from sandboxes.service.ports import Dispatcher
from sandboxes.settings import Settings
from sandboxes.store.database import Database, connect
from sandboxes.store.migrate import upgrade

__all__ = ["DispatchMode", "build_service", "open_database", "upgrade_database"]


class DispatchMode(StrEnum):
    POOL = "pool"  # the API server: bounded pool of worker processes, start-up recovery
    DETACHED = "detached"  # the local CLI: a worker process per operation that outlives the command
    NONE = "none"  # leave operations queued


def open_database(settings: Settings, migrate: bool = True) -> Database:
    url = settings.effective_database_url
    try:
        if migrate:
            upgrade(url)
        return connect(url)
    except Exception as err:  # the URL may carry a password: say what failed, not the URL
        raise Unavailable(f"records database not reachable ({type(err).__name__}): check SANDBOXES_DATABASE_URL") \
            from None


def upgrade_database(settings: Settings) -> str | None:
    """Apply the records migrations; returns the revision now current."""
    from sandboxes.store.migrate import current

    url = settings.effective_database_url
    try:
        upgrade(url)
        return current(url)
    except Exception as err:
        raise Unavailable(f"records database: {type(err).__name__}: check SANDBOXES_DATABASE_URL") from None


def build_service(settings: Settings, mode: DispatchMode = DispatchMode.POOL,
                  db: Database | None = None) -> SandboxService:
    from sandboxes.service.runner import DetachedLauncher, WorkerPool

    db = db or open_database(settings)
    dispatcher: Dispatcher | None
    if mode == DispatchMode.POOL:
        dispatcher = WorkerPool(settings, db)
    elif mode == DispatchMode.DETACHED:
        dispatcher = DetachedLauncher(settings)
    else:
        dispatcher = None
    return SandboxService(settings, db, dispatcher=dispatcher, engine_factory=engine_factory(settings))
