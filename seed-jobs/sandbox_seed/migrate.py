"""Ordered, versioned SQL migrations (``migrations/NNNN_name.sql``), each recorded in schema_migrations.

Why our own tiny runner: the seed image carries only stdlib + psycopg, and the schema is part of the
seed contract (a copy refuses a parent whose recorded version differs from ours).
Every migration is itself idempotent (IF NOT EXISTS) and runs inside the caller's transaction, so a
failed seed leaves no half-applied schema behind.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from sandbox_seed.errors import SchemaVersionError

log = logging.getLogger("sandbox_seed")

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

SCHEMA_MIGRATIONS_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    """One SQL file: its version number, name, text and sha256 (to detect edits after release)."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """All migrations in version order; versions must be 1..N without gaps or duplicates."""
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise SchemaVersionError(f"badly named migration file {path.name} (want NNNN_name.sql)")
        found.append(Migration(int(m.group(1)), m.group(2), path.read_text()))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise SchemaVersionError(f"migration versions must be 1..N without gaps, found {versions}")
    return found


MIGRATIONS = load_migrations()
SCHEMA_VERSION = MIGRATIONS[-1].version


def current_version(conn: psycopg.Connection) -> int | None:
    """Highest applied version, or None when the database has no schema_migrations table at all."""
    exists = conn.execute("SELECT to_regclass('public.schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return None
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection, target: int = SCHEMA_VERSION) -> list[int]:
    """Apply every not-yet-recorded migration up to ``target`` (in the caller's transaction).

    Returns the versions applied. Refuses when a recorded migration's checksum differs from the file
    (someone edited a released migration: the databases would silently diverge).
    """
    conn.execute(SCHEMA_MIGRATIONS_DDL)
    applied = {int(v): str(c) for v, c in conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()}
    done: list[int] = []
    for mig in MIGRATIONS:
        if mig.version > target:
            break
        if mig.version in applied:
            if applied[mig.version] != mig.checksum:
                raise SchemaVersionError(
                    f"migration {mig.version:04d}_{mig.name} differs from the one recorded in the database"
                )
            continue
        conn.execute(mig.sql.encode())
        conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
            (mig.version, mig.name, mig.checksum),
        )
        log.info("applied migration %04d_%s", mig.version, mig.name)
        done.append(mig.version)
    return done
