"""Masking rules, one test each, plus a property test: after masked-copy no original secret survives."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox_seed import masking
from sandbox_seed.migrate import migrate
from sandbox_seed.runner import run
from sandbox_seed.settings import build_request
from sandbox_seed.tables import BUSINESS_TABLES
from tests.fixtures.postgres import PostgresServer
from tests.seed_jobs.conftest import seed

pytestmark = pytest.mark.postgres

CTX = masking.MaskContext.for_seed(7, "sandbox-x1", "2026-01-01T00:00:00+00:00")


def make_production_like(conn: psycopg.Connection) -> None:
    """Turn preconfigured data into what a production database looks like before masking."""
    conn.execute("UPDATE optins SET enabled = true")
    conn.execute("UPDATE integration_settings SET enabled = true, auto_sync = true")
    conn.execute("UPDATE web_panels SET url = replace(url, '{{ base_url }}', 'https://online3.platform.example/cust42')")
    conn.execute("INSERT INTO web_panels (provider_id, name, url, visible) VALUES "
                 "(1, 'Ticket script', 'http://online3.platform.example:8080/cust42/CS/Scripts/ticket.fcgi?x=1', true),"
                 " (1, 'Relative', '/already/relative', true)")
    conn.execute("UPDATE support_tickets SET status = 'open', closed_at = NULL WHERE id % 3 = 0")


@pytest.fixture(scope="module")
def prod_url(postgres_server: PostgresServer) -> str:
    """A production-like database, seeded once per module (tests never commit to it)."""
    url = postgres_server.create_database()
    seed(url, "preconfigured", "msp,cpo", 11)
    with psycopg.connect(url, options="-c TimeZone=UTC") as conn:
        make_production_like(conn)
    return url


@pytest.fixture
def prod(prod_url: str) -> Iterator[psycopg.Connection]:
    """A connection inside a transaction that is rolled back after the test: every rule sees fresh data."""
    with psycopg.connect(prod_url, options="-c TimeZone=UTC") as conn:
        yield conn
        conn.rollback()


def col(conn: psycopg.Connection, q: str) -> list:
    return [r[0] for r in conn.execute(q).fetchall()]


def test_remove_login_secrets(prod: psycopg.Connection) -> None:
    logins = set(col(prod, "SELECT login FROM users"))
    assert masking.remove_login_secrets(prod, CTX) == len(logins)
    assert col(prod, "SELECT count(*) FROM users WHERE password_hash IS NOT NULL OR login_secret IS NOT NULL") == [0]
    new = set(col(prod, "SELECT login FROM users"))
    assert not logins & new and len(new) == len(logins)  # still unique


def test_pseudonymize_emails_keeps_joins(prod: psycopg.Connection) -> None:
    pairs_before = col(prod, "SELECT count(*) FROM invoices i JOIN drivers d ON d.email = i.billing_email")
    originals = set(col(prod, "SELECT email FROM drivers UNION SELECT email FROM users "
                              "UNION SELECT requester_email FROM support_tickets"))
    masking.pseudonymize_emails(prod, CTX)
    after = set(col(prod, "SELECT email FROM drivers UNION SELECT email FROM users "
                          "UNION SELECT billing_email FROM invoices UNION SELECT requester_email FROM support_tickets"))
    assert not originals & after
    assert all(e.startswith("p-") and e.endswith("@example.invalid") for e in after)
    assert col(prod, "SELECT count(*) FROM invoices i JOIN drivers d ON d.email = i.billing_email") == pairs_before
    assert pairs_before[0] > 0


def test_pseudonyms_are_deterministic_per_seed(prod: psycopg.Connection) -> None:
    prod.execute("CREATE TEMP TABLE e AS SELECT id, email FROM drivers")
    masking.pseudonymize_emails(prod, CTX)
    first = col(prod, "SELECT email FROM drivers ORDER BY id")
    prod.execute("UPDATE drivers d SET email = e.email FROM e WHERE e.id = d.id")
    masking.pseudonymize_emails(prod, CTX)
    assert col(prod, "SELECT email FROM drivers ORDER BY id") == first
    prod.execute("UPDATE drivers d SET email = e.email FROM e WHERE e.id = d.id")
    masking.pseudonymize_emails(prod, masking.MaskContext.for_seed(8, "s", CTX.reference_time))
    assert col(prod, "SELECT email FROM drivers ORDER BY id") != first


def test_pseudonymize_tokens_keeps_card_session_link(prod: psycopg.Connection) -> None:
    uids = set(col(prod, "SELECT uid FROM charge_cards UNION SELECT contract_id FROM charge_cards"))
    masking.pseudonymize_tokens(prod, CTX)
    assert not uids & set(col(prod, "SELECT uid FROM charge_cards UNION SELECT contract_id FROM charge_cards "
                                    "UNION SELECT token_uid FROM charging_sessions"))
    assert col(prod, "SELECT count(*) FROM charging_sessions s JOIN charge_cards c ON c.id = s.charge_card_id "
                     "WHERE s.token_uid <> c.uid") == [0]


def test_replace_mailboxes(prod: psycopg.Connection) -> None:
    masking.replace_mailboxes(prod, CTX)
    rows = prod.execute("SELECT id, address, imap_host, username, password FROM mailboxes").fetchall()
    assert len(rows) == 1
    new_id, address, *creds = rows[0]
    assert address == "sandbox-x1-support@sandbox.invalid" and creds == [None, None, None]
    assert col(prod, "SELECT DISTINCT mailbox_id FROM support_tickets") == [new_id]


def test_close_open_tickets(prod: psycopg.Connection) -> None:
    assert col(prod, "SELECT count(*) FROM support_tickets WHERE status <> 'closed'")[0] > 0
    masking.close_open_tickets(prod, CTX)
    assert col(prod, "SELECT count(*) FROM support_tickets WHERE status <> 'closed' OR closed_at IS NULL "
                     "OR closed_at < opened_at") == [0]


def test_disable_scheduled_tasks(prod: psycopg.Connection) -> None:
    assert col(prod, "SELECT count(*) FROM scheduled_tasks WHERE enabled")[0] > 0
    masking.disable_scheduled_tasks(prod, CTX)
    assert col(prod, "SELECT count(*) FROM scheduled_tasks WHERE enabled") == [0]


def test_drop_app_authorizations(prod: psycopg.Connection) -> None:
    assert masking.drop_app_authorizations(prod, CTX) == 3
    assert col(prod, "SELECT count(*) FROM app_authorizations") == [0]


def test_disable_integrations(prod: psycopg.Connection) -> None:
    masking.disable_integrations(prod, CTX)
    assert col(prod, "SELECT count(*) FROM integration_settings WHERE enabled OR auto_sync OR api_key IS NOT NULL") \
        == [0]


def test_turn_off_optins(prod: psycopg.Connection) -> None:
    assert masking.turn_off_optins(prod, CTX) == 2
    assert col(prod, "SELECT count(*) FROM optins WHERE enabled") == [0]


def test_templatize_web_panel_urls(prod: psycopg.Connection) -> None:
    masking.templatize_web_panel_urls(prod, CTX)
    urls = col(prod, "SELECT url FROM web_panels ORDER BY id")
    assert "{{ base_url }}/cust42/support/tickets?status=open" in urls
    assert "{{ base_url }}/cust42/CS/Scripts/ticket.fcgi?x=1" in urls
    assert "/already/relative" in urls
    assert not [u for u in urls if "://" in u]


def test_scrub_free_text_emails(prod: psycopg.Connection) -> None:
    bodies = col(prod, "SELECT body FROM support_tickets WHERE body LIKE '%@%'")
    assert bodies
    masking.scrub_free_text_emails(prod, CTX)
    left = col(prod, "SELECT body FROM support_tickets WHERE body ~ '@' AND body !~ 'redacted@example.invalid'")
    assert left == []


def test_scrub_free_text_identifiers_uses_the_same_pseudonyms(prod: psycopg.Connection) -> None:
    login, email = prod.execute("SELECT login, email FROM users WHERE id = 2").fetchone()
    uid = col(prod, "SELECT uid FROM charge_cards WHERE id = 1")[0]
    prod.execute("UPDATE support_tickets SET body = %s WHERE id = 1",
                 (f"Login {login}. Card {uid}, mail ({email.upper()}).",))
    masking.apply_masking(prod, CTX)  # all rules, in order: later rules must not undo the mapping
    body = col(prod, "SELECT body FROM support_tickets WHERE id = 1")[0]
    new_login, new_email = prod.execute("SELECT login, email FROM users WHERE id = 2").fetchone()
    new_uid = col(prod, "SELECT uid FROM charge_cards WHERE id = 1")[0]
    assert body == f"Login {new_login}. Card {new_uid}, mail ({new_email})."
    assert col(prod, "SELECT count(*) FROM pg_class WHERE relname = 'sandbox_mask_map'") == [0]  # cleaned up


def test_every_rule_is_applied_in_masked_copy() -> None:
    names = [r.__name__ for r in masking.MASKING_RULES]
    assert len(names) == len(set(names)) >= 10


# ------------------------------------------------------------------- property: nothing original survives

SAFE = "ghjkmnpqrstuvwxyz"  # no hex digits or letters of the fixed pseudonym words: no false positives
words = st.text(SAFE, min_size=10, max_size=16)
emails = st.builds(lambda a, b, tld: f"{a}.{b}@{b[::-1]}.{tld}".replace("..", "."),
                   st.text(SAFE, min_size=3, max_size=10), st.text(SAFE, min_size=3, max_size=10),
                   st.sampled_from(["com", "org", "net", "nl", "de"]))
person = st.fixed_dictionaries({"email": emails, "login": words, "card": words, "contract": words, "secret": words,
                                "upper": st.booleans()})


@pytest.fixture(scope="module")
def property_dbs(postgres_server: PostgresServer) -> tuple[str, str]:
    parent = postgres_server.create_database()
    target = postgres_server.create_database()
    with psycopg.connect(parent) as conn:
        migrate(conn)
    return parent, target


def _fill(parent: str, people: list[dict]) -> None:
    with psycopg.connect(parent) as conn:
        conn.execute("TRUNCATE " + ", ".join(BUSINESS_TABLES) + " RESTART IDENTITY CASCADE")
        conn.execute("INSERT INTO providers (slug, name, kind, country_code, created_at) "
                     "VALUES ('prod', 'Prod', 'operator', 'NL', now())")
        conn.execute("INSERT INTO roles (name, description) VALUES ('admin', 'a')")
        conn.execute("INSERT INTO tariffs (provider_id, kind, name, currency, price_per_kwh, start_fee, "
                     "price_per_minute, vat_rate) VALUES (1, 'msp', 'T', 'EUR', 0.4, 0, 0, 21)")
        conn.execute("INSERT INTO mailboxes (provider_id, address, imap_host, username, password, purpose, created_at)"
                     " VALUES (1, %s, 'imap.x', %s, %s, 'support', now())",
                     (people[0]["email"], people[0]["login"], people[0]["secret"]))
        for i, p in enumerate(people, 1):
            email = p["email"].upper() if p["upper"] else p["email"]
            conn.execute("INSERT INTO users (provider_id, role_id, login, email, full_name, password_hash, "
                         "login_secret, created_at) VALUES (1, 1, %s, %s, 'N N', %s, %s, now())",
                         (p["login"], email, "hash" + p["secret"], p["secret"]))
            conn.execute("INSERT INTO drivers (provider_id, first_name, last_name, email, country_code, created_at) "
                         "VALUES (1, 'A', 'B', %s, 'NL', now())", (p["email"],))
            conn.execute("INSERT INTO charge_cards (driver_id, uid, contract_id, label, status, valid_until, "
                         "created_at) VALUES (%s, %s, %s, 'c', 'active', '2030-01-01', now())",
                         (i, p["card"], p["contract"]))
            conn.execute("INSERT INTO charging_sessions (charge_card_id, token_uid, evse_uid, location_name, "
                         "tariff_id, started_at, ended_at, energy_kwh, cost_excl_vat, vat, cost_incl_vat, currency, "
                         "status) VALUES (%s, %s, 'E', 'L', 1, now(), now(), 1, 1, 0.21, 1.21, 'EUR', 'COMPLETED')",
                         (i, p["card"]))
            conn.execute("INSERT INTO invoices (provider_id, driver_id, number, billing_email, period_start, "
                         "period_end, session_count, energy_kwh, amount_excl_vat, vat, amount_incl_vat, currency, "
                         "status, issued_at) VALUES (1, %s, %s, %s, '2025-01-01', '2025-01-31', 1, 1, 1, 0.21, 1.21, "
                         "'EUR', 'open', now())", (i, f"INV-{i}", p["email"]))
            conn.execute("INSERT INTO support_tickets (provider_id, mailbox_id, requester_email, subject, body, "
                         "status, priority, opened_at) VALUES (1, 1, %s, %s, %s, 'open', 'high', now())",
                         (p["email"], f"From {p['email']}", f"Reach me at {p['email']} (user {p['login']})."))
            conn.execute("INSERT INTO app_authorizations (provider_id, app_name, client_id, access_token, "
                         "refresh_token, scopes, authorized_at) VALUES (1, 'app', 'c', %s, %s, 's', now())",
                         (p["secret"], p["card"]))
            conn.execute("INSERT INTO integration_settings (provider_id, system, endpoint_url, api_key, auto_sync, "
                         "enabled) VALUES (1, 'erp', 'https://erp.example/x', %s, true, true)", (p["secret"],))


def _all_text(url: str) -> str:
    """Every text-ish value of every table in the database, concatenated (lower-cased) for substring search."""
    chunks: list[str] = []
    with psycopg.connect(url) as conn:
        cols = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND data_type IN ('text', 'character varying', 'character', 'jsonb', 'json')").fetchall()
        for table, column in cols:
            for (v,) in conn.execute(f'SELECT "{column}"::text FROM "{table}"').fetchall():
                if v is not None:
                    chunks.append(v.lower())
    return "\n".join(chunks)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(person, min_size=1, max_size=6, unique_by=(lambda p: p["login"], lambda p: p["card"],
                                                                   lambda p: p["contract"])))
def test_after_masked_copy_no_original_email_login_or_token_remains(
        property_dbs: tuple[str, str], people: list[dict]) -> None:
    parent, target = property_dbs
    _fill(parent, people)
    env = {"DATABASE_URL": target, "PARENT_DATABASE_URL": parent, "SEED_MASKED_COPY_ALLOWED": "true",
           "SANDBOX_SLUG": "sandbox-prop"}
    run(build_request("masked-copy", "msp", "small", 1, True, env=env))
    haystack = _all_text(target)
    for p in people:
        for key in ("email", "login", "card", "contract", "secret"):
            assert p[key].lower() not in haystack, (key, p[key])
    assert "sandbox-prop-support@sandbox.invalid" in haystack
