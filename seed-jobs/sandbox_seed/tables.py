"""The business tables in foreign-key order, and the SQL that counts, checksums, empties them.

Why order matters: COPY loads and copies table by table with constraints active, so parents go first;
TRUNCATE … CASCADE empties them all at once.
Why this checksum: an order-independent sum of per-row md5 prefixes, computed by PostgreSQL itself,
streams over any size, and is equal for equal contents whatever the physical row order (copy fidelity).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import psycopg
from psycopg import sql

BUSINESS_TABLES: tuple[str, ...] = (
    "providers",
    "roles",
    "users",
    "tariffs",
    "locations",
    "charge_stations",
    "evses",
    "connectors",
    "drivers",
    "charge_cards",
    "charging_sessions",
    "invoices",
    "mailboxes",
    "support_tickets",
    "scheduled_tasks",
    "app_authorizations",
    "integration_settings",
    "optins",
    "web_panels",
    "simulated_devices",
)

# Tables whose ``id`` is an identity column (explicit ids in loads and copies, so their sequences need a
# bump afterwards). simulated_devices is keyed by the simulator's device id and has no sequence.
IDENTITY_TABLES: tuple[str, ...] = tuple(t for t in BUSINESS_TABLES if t != "simulated_devices")

CPO_TABLES = frozenset({"locations", "charge_stations", "evses", "connectors"})
MSP_TABLES = frozenset({"drivers", "charge_cards"})


def existing_tables(conn: psycopg.Connection) -> set[str]:
    """Names of our business tables that exist in ``public`` (a fresh DB has none)."""
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name = ANY(%s)",
        (list(BUSINESS_TABLES),),
    ).fetchall()
    return {str(r[0]) for r in rows}


def nonempty_tables(conn: psycopg.Connection) -> list[str]:
    """Business tables holding at least one row (cheap: EXISTS, not count)."""
    present = existing_tables(conn)
    out = []
    for t in BUSINESS_TABLES:
        if t in present:
            row = conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(t))).fetchone()
            if row and row[0]:
                out.append(t)
    return out


def table_checksum(conn: psycopg.Connection, table: str) -> tuple[int, str]:
    """(row count, order-independent content checksum) of one table."""
    q = sql.SQL(
        "SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0)::text FROM {} t"
    ).format(sql.Identifier(table))
    row = conn.execute(q).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def database_checksums(conn: psycopg.Connection, tables: Iterable[str] = BUSINESS_TABLES) -> dict[str, tuple[int, str]]:
    """Per-table (count, checksum) for every business table."""
    return {t: table_checksum(conn, t) for t in tables}


def combined_checksum(per_table: dict[str, tuple[int, str]]) -> str:
    """One sha256 over the per-table results, in table order (what the seed record stores)."""
    h = hashlib.sha256()
    for t in sorted(per_table):
        n, s = per_table[t]
        h.update(f"{t}:{n}:{s}\n".encode())
    return h.hexdigest()


def truncate_all(conn: psycopg.Connection) -> None:
    """Empty every business table and restart identities (the --reset path; in the caller's transaction)."""
    conn.execute(
        sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
            sql.SQL(", ").join(sql.Identifier(t) for t in BUSINESS_TABLES)
        )
    )


def sync_identities(conn: psycopg.Connection, tables: Iterable[str] = IDENTITY_TABLES) -> None:
    """Move each identity sequence past max(id): loads set explicit ids, the app must not collide later."""
    for t in tables:
        conn.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence({lit}, 'id'), coalesce(max(id), 0) + 1, false) FROM {tbl}"
            ).format(lit=sql.Literal(t), tbl=sql.Identifier(t))
        )
