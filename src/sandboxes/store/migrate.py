"""Alembic, driven from code: the migrations ship inside the package (``store/migrations``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from sandboxes.store.database import normalise_url

__all__ = ["alembic_config", "current", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # '%' must be doubled for configparser; URLs with encoded passwords contain it.
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the records database to ``revision`` (idempotent; run at every start-up)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def current(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
