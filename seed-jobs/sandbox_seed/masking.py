"""Masking rules applied after a copy when the target is a 'masked-copy' (seed 002's scrub list).

Each rule is a named function ``(conn, ctx) -> rows affected`` so it can be tested and reported on its
own; ``MASKING_RULES`` is the ordered list the runner applies, inside the seeding transaction.

Pseudonyms are deterministic (keyed md5 of the original value, key derived from --random-seed): the
same e-mail or card uid becomes the same pseudonym wherever it appears, so joins and lookups by value
keep working, while the original cannot be read back without the key.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from sandbox_seed.tables import BUSINESS_TABLES

log = logging.getLogger("sandbox_seed")

# Anything shaped like local@domain, except our own pseudonyms/sandbox addresses (negative lookahead).
# No "%" in it: the pattern is inlined into a parametrized query.
EMAIL_REGEX = r"[^[:space:]@]+@(?!example\.invalid|sandbox\.invalid)[^[:space:]@]+"
# Absolute production URL prefix (scheme + host [+ port]); the path is kept behind the template variable.
URL_PREFIX_REGEX = r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+"
BASE_URL_TEMPLATE = "{{ base_url }}"


@dataclass(frozen=True)
class MaskContext:
    """Inputs the rules need: the pseudonym key, the sandbox slug and the reference time."""

    key: str
    slug: str
    reference_time: str  # ISO timestamp, used for closed_at

    @classmethod
    def for_seed(cls, seed: int, slug: str, reference_time: str) -> MaskContext:
        key = hashlib.sha256(f"sandbox-seed-mask:{seed}".encode()).hexdigest()
        return cls(key=key, slug=slug, reference_time=reference_time)


def _pseudo(expr: str, prefix: str, suffix: str = "") -> sql.Composable:
    """SQL for a deterministic pseudonym of column expression ``expr`` (uses the %(key)s parameter)."""
    return sql.SQL("{} || substr(md5(%(key)s || {}), 1, 16) || {}").format(
        sql.Literal(prefix), sql.SQL(expr), sql.Literal(suffix)
    )


def _exec(conn: psycopg.Connection, query: sql.Composable, ctx: MaskContext) -> int:
    with conn.cursor() as cur:
        cur.execute(query, {"key": ctx.key, "slug": ctx.slug, "now": ctx.reference_time})
        return max(cur.rowcount, 0)


def remove_login_secrets(conn: psycopg.Connection, ctx: MaskContext) -> int:
    """Users keep their row (and role) but lose password hash and login secret; logins are pseudonymized.

    Sandbox access goes through the provisioner's own login flow, never production credentials.
    """
    q = sql.SQL("UPDATE users SET password_hash = NULL, login_secret = NULL, login = {}").format(
        _pseudo("login", "user-")
    )
    return _exec(conn, q, ctx)


EMAIL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("users", "email"),
    ("drivers", "email"),
    ("invoices", "billing_email"),
    ("support_tickets", "requester_email"),
)


def pseudonymize_emails(conn: psycopg.Connection, ctx: MaskContext) -> int:
    """Replace every personal e-mail column with ``p-<hash>@example.invalid`` (same input → same output)."""
    total = 0
    for table, col in EMAIL_COLUMNS:
        q = sql.SQL("UPDATE {t} SET {c} = {v} WHERE {c} IS NOT NULL").format(
            t=sql.Identifier(table), c=sql.Identifier(col), v=_pseudo(f'lower("{col}")', "p-", "@example.invalid")
        )
        total += _exec(conn, q, ctx)
    return total


def pseudonymize_tokens(conn: psycopg.Connection, ctx: MaskContext) -> int:
    """Charge-card uids and contract ids, and the token uid recorded on sessions, become pseudonyms.

    The same function on cards.uid and sessions.token_uid keeps "sessions of this card" answerable.
    """
    total = _exec(conn, sql.SQL("UPDATE charge_cards SET uid = {}, contract_id = {}").format(
        _pseudo("uid", "TOK-"), _pseudo("contract_id", "EMA-")), ctx)
    total += _exec(conn, sql.SQL("UPDATE charging_sessions SET token_uid = {}").format(
        _pseudo("token_uid", "TOK-")), ctx)
    return total


# Free-text columns where people type identifiers ("my card 04A1…, login jdoe, mail me at …").
FREE_TEXT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("support_tickets", "subject"),
    ("support_tickets", "body"),
    ("users", "full_name"),
    ("charge_cards", "label"),
    ("scheduled_tasks", "script"),
    ("web_panels", "name"),
)
# Separator characters between words of free text; a word never ends with '.', so "…jdoe." still matches.
_SEP = "[:space:]()<>,;:\"'!?{}|=&"
_TOKEN_REGEX = f"([^{_SEP}]*[^{_SEP}.]|.)"
_MASK_TEXT_FN = f"""
CREATE OR REPLACE FUNCTION pg_temp.sandbox_mask_text(t text) RETURNS text LANGUAGE sql STABLE AS $fn$
  SELECT coalesce(string_agg(coalesce(m.pseudonym, p.tok[1]), '' ORDER BY p.n), '')
  FROM regexp_matches(t, '{_TOKEN_REGEX.replace("'", "''")}', 'g') WITH ORDINALITY AS p(tok, n)
  LEFT JOIN pg_temp.sandbox_mask_map m ON m.original = lower(p.tok[1])
$fn$
"""


def scrub_free_text_identifiers(conn: psycopg.Connection, ctx: MaskContext) -> int:
    """Logins, e-mails and card tokens typed into free text get the SAME pseudonym as their own column.

    Runs before the column rules (it needs the original values): builds a temporary original→pseudonym
    map, then rewrites each word of the FREE_TEXT_COLUMNS that is in the map. Remaining e-mail-shaped
    words anywhere are caught later by ``scrub_free_text_emails``.
    """
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS sandbox_mask_map (original text PRIMARY KEY, pseudonym text "
                 "NOT NULL) ON COMMIT DROP")
    conn.execute("TRUNCATE sandbox_mask_map")
    sources = [("users", "login", _pseudo("login", "user-"))]
    sources += [(t, c, _pseudo(f'lower("{c}")', "p-", "@example.invalid")) for t, c in EMAIL_COLUMNS]
    sources += [("charge_cards", "uid", _pseudo("uid", "TOK-")), ("charge_cards", "contract_id",
                                                                   _pseudo("contract_id", "EMA-")),
                ("charging_sessions", "token_uid", _pseudo("token_uid", "TOK-"))]
    for table, column, expr in sources:
        _exec(conn, sql.SQL("INSERT INTO sandbox_mask_map SELECT DISTINCT ON (lower({c})) lower({c}), {e} FROM {t} "
                            "WHERE {c} IS NOT NULL ORDER BY lower({c}) ON CONFLICT DO NOTHING").format(
            c=sql.Identifier(column), e=expr,
            t=sql.Identifier(table)), ctx)
    conn.execute(_MASK_TEXT_FN.encode())
    total = 0
    for table, column in FREE_TEXT_COLUMNS:
        q = sql.SQL("UPDATE {t} SET {c} = pg_temp.sandbox_mask_text({c}) WHERE {c} IS NOT NULL "
                    "AND {c} IS DISTINCT FROM pg_temp.sandbox_mask_text({c})").format(
            t=sql.Identifier(table), c=sql.Identifier(column))
        total += _exec(conn, q, ctx)
    conn.execute("DROP FUNCTION pg_temp.sandbox_mask_text(text)")
    conn.execute("DROP TABLE sandbox_mask_map")
    return total


def scrub_free_text_emails(conn: psycopg.Connection, ctx: MaskContext) -> int:
    """Any e-mail-shaped word left in any text column becomes a fixed placeholder (belt and braces).

    Runs over every text column of every business table except the structured, already-pseudonymized
    e-mail columns, so an address typed into any note is not missed even if it was never a known one.
    """
    total = 0
    rows = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name = ANY(%s) AND data_type IN ('text', 'character varying') ORDER BY table_name, column_name",
        (list(BUSINESS_TABLES),),
    ).fetchall()
    skip = {(t, c) for t, c in EMAIL_COLUMNS} | {("mailboxes", "address"), ("mailboxes", "username")}
    for table, col in rows:
        if (table, col) in skip:
            continue
        q = sql.SQL("UPDATE {t} SET {c} = regexp_replace({c}, {rx}, 'redacted@example.invalid', 'g') "
                    "WHERE strpos({c}, '@') > 0 AND {c} ~ {rx}").format(
            t=sql.Identifier(table), c=sql.Identifier(col), rx=sql.Literal(EMAIL_REGEX))
        total += _exec(conn, q, ctx)
    return total


def replace_mailboxes(conn: psycopg.Connection, ctx: MaskContext) -> int:
    """Drop every mailbox account (addresses + IMAP credentials) and create one sandbox mailbox.

    Tickets are re-pointed to the new mailbox so none refers to a deleted account.
    """
    n = _exec(conn, sql.SQL(
        "INSERT INTO mailboxes (provider_id, address, imap_host, username, password, purpose, created_at) "
        "SELECT id, %(slug)s || '-support@sandbox.invalid', NULL, NULL, NULL, 'support', %(now)s "
        "FROM providers WHERE kind = 'operator' ORDER BY id LIMIT 1"), ctx)
    if n == 0:  # no operator row: still give the sandbox a mailbox, owned by the first provider
        _exec(conn, sql.SQL(
            "INSERT INTO mailboxes (provider_id, address, purpose, created_at) "
            "SELECT id, %(slug)s || '-support@sandbox.invalid', 'support', %(now)s FROM providers ORDER BY id LIMIT 1"),
            ctx)
    newest = conn.execute("SELECT max(id) FROM mailboxes").fetchone()
    new_id = newest[0] if newest else None
    if new_id is None:  # no provider at all (empty parent): nothing to attach a mailbox to
        return 0
    conn.execute("UPDATE support_tickets SET mailbox_id = %s WHERE mailbox_id IS NOT NULL", (new_id,))
    with conn.cursor() as cur:
        cur.execute("DELETE FROM mailboxes WHERE id <> %s", (new_id,))
        return max(cur.rowcount, 0) + 1


def close_open_tickets(conn: psycopg.Connection, ctx: MaskContext) -> int:
    """Every open or pending ticket is closed: nobody in the sandbox should answer production customers."""
    return _exec(conn, sql.SQL(
        "UPDATE support_tickets SET status = 'closed', closed_at = greatest(opened_at, %(now)s::timestamptz) "
        "WHERE status <> 'closed'"), ctx)


def disable_scheduled_tasks(conn: psycopg.Connection, ctx: MaskContext) -> int:
    """All scheduled tasks disabled: a copied nightly job must not run against copied data (or send mail)."""
    return _exec(conn, sql.SQL("UPDATE scheduled_tasks SET enabled = false WHERE enabled"), ctx)


def drop_app_authorizations(conn: psycopg.Connection, ctx: MaskContext) -> int:
    """Third-party app authorizations are one-to-one with production: delete them (apps sign up again)."""
    return _exec(conn, sql.SQL("DELETE FROM app_authorizations"), ctx)


def disable_integrations(conn: psycopg.Connection, ctx: MaskContext) -> int:
    """Integrations (ERP, roaming, payments) off, no auto-sync, API keys removed: no production sync."""
    return _exec(conn, sql.SQL(
        "UPDATE integration_settings SET enabled = false, auto_sync = false, api_key = NULL"), ctx)


def turn_off_optins(conn: psycopg.Connection, ctx: MaskContext) -> int:
    """Statistics and user-sync opt-ins off: a copy must not report usage or retire real users upstream."""
    return _exec(conn, sql.SQL("UPDATE optins SET enabled = false WHERE enabled"), ctx)


def templatize_web_panel_urls(conn: psycopg.Connection, ctx: MaskContext) -> int:
    """Absolute URLs in web panels become ``{{ base_url }}/path``: the sandbox must not link to production."""
    return _exec(conn, sql.SQL(
        "UPDATE web_panels SET url = regexp_replace(url, {rx}, {tpl}) WHERE url ~ {rx}").format(
        rx=sql.Literal(URL_PREFIX_REGEX), tpl=sql.Literal(BASE_URL_TEMPLATE)), ctx)


MaskingRule = Callable[[psycopg.Connection, MaskContext], int]

MASKING_RULES: tuple[MaskingRule, ...] = (
    scrub_free_text_identifiers,  # first: needs the original values to map them
    remove_login_secrets,
    pseudonymize_emails,
    pseudonymize_tokens,
    replace_mailboxes,
    close_open_tickets,
    disable_scheduled_tasks,
    drop_app_authorizations,
    disable_integrations,
    turn_off_optins,
    templatize_web_panel_urls,
    scrub_free_text_emails,
)


def apply_masking(conn: psycopg.Connection, ctx: MaskContext) -> dict[str, int]:
    """Apply every rule in order (caller's transaction); returns rows touched per rule, also logged."""
    report: dict[str, int] = {}
    for rule in MASKING_RULES:
        report[rule.__name__] = rule(conn, ctx)
        log.info("masking %-28s %d rows", rule.__name__, report[rule.__name__])
    return report
