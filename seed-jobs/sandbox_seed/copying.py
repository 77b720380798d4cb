"""Copy a parent sandbox database into the target, table by table, streaming.

Why COPY binary TO STDOUT → COPY FROM STDIN: it streams each table through this process in chunks
(flat memory at any size) and is the fastest path PostgreSQL offers; binary is exact because both
sides run the same schema version (checked before anything is written).
Why one REPEATABLE READ read-only transaction on the source: every table comes from the same
snapshot (foreign keys stay consistent while the parent is in use) and nothing can be written there.
"""

from __future__ import annotations

import logging
import time

import psycopg
from psycopg import sql

from sandbox_seed.tables import BUSINESS_TABLES

log = logging.getLogger("sandbox_seed")


def table_columns(conn: psycopg.Connection, table: str) -> list[str]:
    """Column names of ``table`` in ordinal order (both sides must agree; same schema version)."""
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
        "ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return [str(r[0]) for r in rows]


def copy_database(source: psycopg.Connection, target: psycopg.Connection) -> dict[str, int]:
    """Stream every business table from ``source`` (read-only snapshot) into ``target``; rows per table."""
    if source.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        source.rollback()  # earlier checks ran in an implicit read-only transaction; start a fresh snapshot
    source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    source.read_only = True
    counts: dict[str, int] = {}
    with source.transaction():
        for table in BUSINESS_TABLES:
            cols = table_columns(source, table)
            if cols != table_columns(target, table):
                raise RuntimeError(f"columns of {table} differ between parent and target")
            collist = sql.SQL(", ").join(sql.Identifier(c) for c in cols)
            out_q = sql.SQL("COPY {} ({}) TO STDOUT (FORMAT binary)").format(sql.Identifier(table), collist)
            in_q = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(sql.Identifier(table), collist)
            started = time.perf_counter()
            nbytes = 0
            with source.cursor() as scur, target.cursor() as tcur, scur.copy(out_q) as out, tcur.copy(in_q) as inp:
                for chunk in out:
                    inp.write(chunk)
                    nbytes += len(chunk)
            row = target.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
            counts[table] = int(row[0]) if row else 0
            elapsed = time.perf_counter() - started
            log.info("copied %-20s %9d rows %10d bytes in %7.2fs (%.0f rows/s)", table, counts[table], nbytes,
                     elapsed, counts[table] / elapsed if elapsed else 0)
    return counts
