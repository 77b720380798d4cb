"""One seeding run: checks first, then everything in ONE target transaction, then the seed record.

Safety properties (README "Safety"):
- every refusal (unreachable, credentials, schema versions, policy, non-empty target) is decided
  before the first write, and all writes happen in one transaction: a failure leaves the target as it
  was; an unexpected failure additionally leaves a 'failed' seed_record when the schema already existed;
- a rerun whose arguments match the latest successful seed record is a no-op success (--reset forces, and
  so does, once, a --reset-generation above the latest record's);
- an advisory lock serializes concurrent seeders of the same database;
- the parent of a copy is opened read-only (session default and transaction), never written.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg

from sandbox_seed import migrate as migrations
from sandbox_seed.copying import copy_database
from sandbox_seed.db import connect, redact
from sandbox_seed.errors import NotEmptyError, SchemaVersionError, SeedError
from sandbox_seed.generate import Plan, load_preconfigured
from sandbox_seed.masking import MaskContext, apply_masking
from sandbox_seed.settings import SeedRequest
from sandbox_seed.tables import (
    BUSINESS_TABLES,
    combined_checksum,
    database_checksums,
    nonempty_tables,
    sync_identities,
    truncate_all,
)

log = logging.getLogger("sandbox_seed")
ADVISORY_LOCK_KEY = 0x5EED_0004


class SeedFailedError(SeedError):
    """Unexpected failure while writing (rolled back)."""

    exit_code = 1


@dataclass
class RunResult:
    """What happened: 'seeded' or 'noop', with the numbers the seed record holds."""

    outcome: str
    row_counts: dict[str, int] = field(default_factory=dict)
    checksum: str | None = None
    duration_seconds: float = 0.0


@dataclass(frozen=True)
class _LatestSeed:
    """The latest successful seed record: what it was made with, and its reset generation."""

    id: int
    arguments: tuple[str, str, str, int, str | None]  # mode, modules, size, random seed, source
    generation: int

    def matches(self, req: SeedRequest, source: str | None) -> bool:
        return self.arguments == (req.mode, ",".join(req.modules), req.size, req.random_seed, source)


def _latest_seed(conn: psycopg.Connection) -> _LatestSeed | None:
    """The latest successful seed record, read once (None before any; generation 0 before migration 0004)."""
    exists = conn.execute("SELECT to_regclass('public.seed_record') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return None
    has_generation = conn.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'seed_record' "
        "AND column_name = 'reset_generation'"
    ).fetchone()
    generation = "reset_generation" if has_generation else "0"
    row = conn.execute(
        f"SELECT id, mode, modules, size, random_seed, source, {generation} FROM seed_record "
        "WHERE status = 'succeeded' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return _LatestSeed(int(row[0]), (row[1], row[2], row[3], int(row[4]), row[5]), int(row[6]))


def _check_parent(source: psycopg.Connection, where: str) -> None:
    """The parent must carry exactly our schema version: older/newer data would not fit our tables."""
    version = migrations.current_version(source)
    ours = migrations.SCHEMA_VERSION
    if version is None:
        raise SchemaVersionError(f"parent database {where} has no sandbox schema (no schema_migrations table)")
    if version < ours:
        raise SchemaVersionError(
            f"parent database {where} has schema version {version}, older than this seed program's {ours}: "
            "migrate the parent first")
    if version > ours:
        raise SchemaVersionError(
            f"parent database {where} has schema version {version}, newer than this seed program's {ours}: "
            "use a newer seed image")


def _write_record(conn: psycopg.Connection, req: SeedRequest, *, status: str, source: str | None,
                  started_at: datetime, duration: float, counts: dict[str, int] | None = None,
                  checksum: str | None = None, error: str | None = None, generation: int | None = None) -> None:
    row = conn.execute(
        "INSERT INTO seed_record (status, mode, modules, size, random_seed, sandbox_slug, source, reference_time, "
        "schema_version, row_counts, checksum, duration_seconds, error, started_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s) RETURNING id",
        (status, req.mode, ",".join(req.modules), req.size, req.random_seed, req.slug, source,
         req.reference_time if req.mode == "preconfigured" else None, migrations.SCHEMA_VERSION,
         json.dumps(counts or {}, sort_keys=True), checksum, round(duration, 3), error, started_at),
    ).fetchone()
    if generation is not None and row is not None:
        # Set apart from the INSERT: a failure record may be written before migration 0004 ran.
        conn.execute("UPDATE seed_record SET reset_generation = %s WHERE id = %s", (generation, row[0]))


def run(req: SeedRequest) -> RunResult:
    """Seed the target as requested. Raises a SeedError subclass (one-line message) on any refusal/failure."""
    t0 = time.monotonic()
    started_at = datetime.now(UTC)
    log.info("sandbox_seed starting: %s", req.describe())
    source_name = redact(req.parent_database_url) if req.is_copy and req.parent_database_url else None
    target = connect(req.database_url, name="target database", timeout=req.connect_timeout)
    source: psycopg.Connection | None = None
    schema_existed = False
    try:
        try:
            with target.transaction():
                target.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
                version = migrations.current_version(target)
                schema_existed = version is not None
                if version is not None and version > migrations.SCHEMA_VERSION:
                    raise SchemaVersionError(
                        f"target database has schema version {version}, newer than this seed program's "
                        f"{migrations.SCHEMA_VERSION}: use a newer seed image")
                latest = _latest_seed(target)
                latest_generation = latest.generation if latest else 0
                # A new reset generation asks for exactly one reset; an old or equal one asks for nothing.
                reset = req.reset or req.reset_generation > latest_generation
                if reset and not req.reset:
                    log.info("reset generation %d is above the last seed's %d: emptying and seeding again",
                             req.reset_generation, latest_generation)
                if latest is not None and latest.matches(req, source_name) and not reset:
                    applied = migrations.migrate(target)
                    log.info("already seeded with these arguments (seed_record id %d)%s: nothing to do",
                             latest.id, f"; applied pending migrations {applied}" if applied else "")
                    return RunResult("noop", duration_seconds=time.monotonic() - t0)
                filled = nonempty_tables(target)
                if filled and not reset:
                    raise NotEmptyError(
                        f"target database already holds business data ({', '.join(filled[:4])}"
                        f"{', …' if len(filled) > 4 else ''}) and --reset was not given")
                if req.is_copy:
                    assert req.parent_database_url is not None
                    source = connect(req.parent_database_url, name="parent database", timeout=req.connect_timeout,
                                     read_only=True)
                    _check_parent(source, source_name or "?")
                # --- first write ---
                migrations.migrate(target)
                if filled:
                    log.info("--reset: emptying %d business tables", len(BUSINESS_TABLES))
                    truncate_all(target)
                counts = _load(target, source, req)
                sync_identities(target)
                if req.mode == "masked-copy":
                    ctx = MaskContext.for_seed(req.random_seed, req.slug or "sandbox", req.reference_time.isoformat())
                    apply_masking(target, ctx)
                    counts = {t: n for t, (n, _s) in database_checksums(target).items()}
                per_table = database_checksums(target)
                checksum = combined_checksum(per_table)
                duration = time.monotonic() - t0
                _write_record(target, req, status="succeeded", source=source_name, started_at=started_at,
                              duration=duration, counts=counts, checksum=checksum,
                              generation=max(req.reset_generation, latest_generation))
        except SeedError:
            raise
        except Exception as exc:
            message = f"seeding failed and was rolled back: {type(exc).__name__}: {' '.join(str(exc).split())}"
            _record_failure(target, req, source_name, started_at, time.monotonic() - t0, message, schema_existed)
            raise SeedFailedError(message) from exc
    finally:
        if source is not None:
            source.close()
        target.close()
    total = sum(counts.values())
    log.info("seeded %d rows in %.2fs (%.0f rows/s), checksum %s", total, duration,
             total / duration if duration else 0, checksum)
    return RunResult("seeded", counts, checksum, duration)


def _load(target: psycopg.Connection, source: psycopg.Connection | None, req: SeedRequest) -> dict[str, int]:
    if req.mode == "blank":
        return dict.fromkeys(BUSINESS_TABLES, 0)
    if req.mode == "preconfigured":
        return load_preconfigured(target, Plan(req.modules, req.size, req.random_seed, req.reference_time))
    assert source is not None
    return copy_database(source, target)


def _record_failure(conn: psycopg.Connection, req: SeedRequest, source: str | None, started_at: datetime,
                    duration: float, message: str, schema_existed: bool) -> None:
    """Best effort: mark the failure in seed_record when the schema predates this run (else DB is untouched)."""
    if not schema_existed or conn.closed:
        return
    try:
        with conn.transaction():
            _write_record(conn, req, status="failed", source=source, started_at=started_at, duration=duration,
                          error=message[:2000])
    except Exception as exc:  # the original error matters more; just log this one
        log.info("could not record the failure in seed_record: %s", exc)
