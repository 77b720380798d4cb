"""Every mode and module choice against the real PostgreSQL server, the program run as a subprocess."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.fixtures.postgres import PostgresServer
from tests.seed_jobs.conftest import (
    one_line_error,
    public_tables,
    query,
    run_args,
    scalar,
    seed,
    seed_cli,
)

pytestmark = pytest.mark.postgres

BUSINESS = (
    "providers", "roles", "users", "tariffs", "locations", "charge_stations", "evses", "connectors", "drivers",
    "charge_cards", "charging_sessions", "invoices", "mailboxes", "support_tickets", "scheduled_tasks",
    "app_authorizations", "integration_settings", "optins", "web_panels", "simulated_devices",
)
CPO_ONLY = ("locations", "charge_stations", "evses", "connectors")
MSP_ONLY = ("drivers", "charge_cards")
REFERENCE = datetime(2026, 1, 1, tzinfo=UTC)
SCHEMA_VERSION = 4  # seed-jobs/sandbox_seed/migrations: the newest file


def counts(url: str) -> dict[str, int]:
    return {t: int(scalar(url, f"SELECT count(*) FROM {t}")) for t in BUSINESS}


def table_checksums(url: str) -> dict[str, tuple[int, str]]:
    from sandbox_seed.tables import database_checksums

    with psycopg.connect(url, options="-c TimeZone=UTC") as conn:
        return database_checksums(conn)


def query_exec(url: str, statement: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(statement)  # type: ignore[arg-type]


def records(url: str) -> list[tuple]:
    return query(url, "SELECT status, mode, modules, size, random_seed, sandbox_slug, checksum, row_counts, "
                      "schema_version, source FROM seed_record ORDER BY id")


def test_blank_is_schema_only(fresh_database: str) -> None:
    proc = seed(fresh_database, "blank", "cpo", env={"SANDBOX_SLUG": "sandbox-a34g56"})
    assert "seeded" in proc.stdout
    assert set(BUSINESS) <= public_tables(fresh_database)
    assert sum(counts(fresh_database).values()) == 0
    assert scalar(fresh_database, "SELECT max(version) FROM schema_migrations") == SCHEMA_VERSION
    (rec,) = records(fresh_database)
    assert rec[:6] == ("succeeded", "blank", "cpo", "small", 42, "sandbox-a34g56")


@pytest.mark.parametrize("modules", ["msp", "cpo", "msp,cpo"])
def test_preconfigured_per_module_choice(fresh_database: str, modules: str) -> None:
    url = fresh_database
    seed(url, "preconfigured", modules, env={"SANDBOX_SLUG": "sandbox-b12c34"})
    c = counts(url)
    total = sum(c.values())
    assert 600 <= total <= 1500, c  # small ≈ 1 000 rows
    has_cpo, has_msp = "cpo" in modules, "msp" in modules
    for t in CPO_ONLY:
        assert (c[t] > 0) == has_cpo, t
    for t in MSP_ONLY:
        assert (c[t] > 0) == has_msp, t
    assert c["charging_sessions"] > 0 and c["users"] > 0
    kinds = {r[0] for r in query(url, "SELECT DISTINCT kind FROM tariffs")}
    assert kinds == {m for m in ("cpo", "msp") if m in modules}
    (rec,) = records(url)
    assert rec[0:4] == ("succeeded", "preconfigured", modules if modules != "msp,cpo" else "cpo,msp", "small")
    assert rec[7] == c  # per-table counts recorded
    if has_cpo:
        assert scalar(url, "SELECT count(*) FROM charging_sessions WHERE connector_id IS NULL") == 0
    else:
        assert scalar(url, "SELECT count(*) FROM charging_sessions WHERE charge_card_id IS NULL") == 0
    # identity sequences are past the explicit ids: the app can insert afterwards
    query(url, "INSERT INTO roles (name, description) VALUES ('new', 'x') RETURNING id")


def test_preconfigured_data_is_realistic_and_consistent(seeded_parent: str) -> None:
    url = seeded_parent
    bad_money = scalar(url, "SELECT count(*) FROM charging_sessions WHERE cost_incl_vat <> cost_excl_vat + vat "
                            "OR vat <> round(cost_excl_vat * 0.21, 2) OR energy_kwh <= 0")
    assert bad_money == 0
    # cost follows the tariff: kWh price x energy + start fee + minutes x minute price (to the cent)
    off = scalar(url, """
        SELECT count(*) FROM charging_sessions s JOIN tariffs t ON t.id = s.tariff_id
        WHERE abs(s.cost_excl_vat - (s.energy_kwh * t.price_per_kwh + t.start_fee
              + extract(epoch FROM s.ended_at - s.started_at) / 60 * t.price_per_minute)) > 0.02""")
    assert off == 0
    # energy is physically possible: never above connector power x duration
    over = scalar(url, """
        SELECT count(*) FROM charging_sessions s JOIN connectors c ON c.id = s.connector_id
        WHERE s.energy_kwh > c.max_power_kw * extract(epoch FROM s.ended_at - s.started_at) / 3600 + 0.01""")
    assert over == 0
    lo, hi = query(url, "SELECT min(started_at), max(ended_at) FROM charging_sessions")[0]
    assert REFERENCE - timedelta(days=90) <= lo and hi <= REFERENCE
    lat_ok = scalar(url, "SELECT bool_and(latitude BETWEEN 50 AND 54 AND longitude BETWEEN 3 AND 8) FROM locations")
    assert lat_ok
    standards = {r[0] for r in query(url, "SELECT DISTINCT standard FROM connectors")}
    assert {"IEC_62196_T2", "IEC_62196_T2_COMBO"} <= standards
    # an MSP card's sessions use its uid as token (joins by value hold)
    mism = scalar(url, "SELECT count(*) FROM charging_sessions s JOIN charge_cards c ON c.id = s.charge_card_id "
                       "WHERE s.token_uid <> c.uid")
    assert mism == 0


def test_same_seed_same_checksum_other_seed_differs(postgres_server: PostgresServer, seeded_parent: str) -> None:
    again = postgres_server.create_database()
    seed(again, "preconfigured", "msp,cpo", 42, env={"SANDBOX_SLUG": "sandbox-other"})
    assert records(again)[0][6] == records(seeded_parent)[0][6]
    assert table_checksums(again) == table_checksums(seeded_parent)
    other = postgres_server.create_database()
    seed(other, "preconfigured", "msp,cpo", 43)
    assert records(other)[0][6] != records(seeded_parent)[0][6]


def test_idempotent_rerun_is_a_noop(fresh_database: str) -> None:
    seed(fresh_database, "preconfigured", "cpo", 5)
    before = table_checksums(fresh_database)
    proc = seed(fresh_database, "preconfigured", "cpo", 5)
    assert proc.stdout.strip().splitlines()[-1].startswith("noop:")
    assert table_checksums(fresh_database) == before
    assert len(records(fresh_database)) == 1


def test_nonempty_database_is_refused_without_reset_then_reset_reseeds(fresh_database: str) -> None:
    url = fresh_database
    seed(url, "preconfigured", "msp", 1)
    before = table_checksums(url)
    proc = seed_cli(*run_args("preconfigured", "msp", "small", 2), env={"DATABASE_URL": url})
    line = one_line_error(proc)
    assert proc.returncode == 7 and "already holds business data" in line and "--reset" in line
    assert table_checksums(url) == before and len(records(url)) == 1  # nothing written
    proc = seed(url, "preconfigured", "msp", 2, "--reset")
    recs = records(url)
    assert [r[4] for r in recs] == [1, 2]
    assert table_checksums(url) != before
    assert scalar(url, "SELECT min(id) FROM drivers") == 1  # identities restarted


def test_a_new_reset_generation_reseeds_once_and_only_once(fresh_database: str) -> None:
    """How a stack re-seeds (spec data_generation): the Job's N above the last record's resets, once."""
    url = fresh_database
    seed(url, "preconfigured", "cpo", 5)
    scribbled = "UPDATE locations SET name = 'edited by a user' WHERE id = 1"
    query_exec(url, scribbled)
    edited = table_checksums(url)
    assert seed(url, "preconfigured", "cpo", 5, "--reset-generation", "0").stdout.count("noop") == 1
    assert table_checksums(url) == edited  # generation 0 is "never reset": the user's edit stays

    proc = seed(url, "preconfigured", "cpo", 5, "--reset-generation", "1")
    assert "reset generation 1 is above the last seed's 0" in proc.stdout
    assert table_checksums(url) != edited
    assert scalar(url, "SELECT name FROM locations WHERE id = 1") != "edited by a user"
    assert scalar(url, "SELECT min(id) FROM locations") == 1  # identities restarted
    assert query(url, "SELECT reset_generation FROM seed_record ORDER BY id") == [(0,), (1,)]

    query_exec(url, scribbled)
    again = table_checksums(url)
    for generation in ("1", "0"):  # the same generation again, or an older one: nothing is reset
        assert seed(url, "preconfigured", "cpo", 5, "--reset-generation", generation).stdout.count("noop") == 1
    assert table_checksums(url) == again and len(records(url)) == 2

    proc = seed(url, "preconfigured", "msp", 6, "--reset-generation", "2")  # other arguments, with a new N
    assert [r[4] for r in records(url)] == [5, 5, 6]
    assert scalar(url, "SELECT count(*) FROM charge_stations") == 0  # msp only now


def test_reset_generation_must_not_be_negative(fresh_database: str) -> None:
    proc = seed_cli(*run_args("blank", "msp", "small", 1, "--reset-generation", "-1"),
                    env={"DATABASE_URL": fresh_database})
    assert proc.returncode != 0 and "--reset-generation" in one_line_error(proc)


def test_foreign_business_rows_count_as_data(fresh_database: str) -> None:
    """A database someone filled by hand (no seed record) is refused too."""
    seed(fresh_database, "blank")
    query(fresh_database, "INSERT INTO roles (name, description) VALUES ('x', 'y') RETURNING id")
    proc = seed_cli(*run_args("preconfigured"), env={"DATABASE_URL": fresh_database})
    assert one_line_error(proc) and proc.returncode == 7


def test_copy_fidelity(postgres_server: PostgresServer, seeded_parent: str) -> None:
    parent_before = table_checksums(seeded_parent)
    target = postgres_server.create_database()
    proc = seed(target, "copy", "msp,cpo", 9, env={"PARENT_DATABASE_URL": seeded_parent, "SANDBOX_SLUG": "sandbox-c"})
    assert "copied charging_sessions" in proc.stdout
    assert table_checksums(target) == parent_before  # per-table counts and checksums equal
    assert table_checksums(seeded_parent) == parent_before  # the parent is untouched
    rec = records(target)[-1]
    assert rec[1] == "copy" and rec[9] and "pw" not in rec[9] and rec[9].endswith(seeded_parent.rsplit("/", 1)[1])
    # rerun with identical arguments: no-op; other arguments on the filled target: refused without --reset
    assert seed(target, "copy", "msp,cpo", 9, env={"PARENT_DATABASE_URL": seeded_parent}).stdout.count("noop") == 1
    proc = seed_cli(*run_args("copy", "msp,cpo", "small", 10),
                    env={"DATABASE_URL": target, "PARENT_DATABASE_URL": seeded_parent})
    assert proc.returncode == 7 and "--reset" in one_line_error(proc)


def test_masked_copy_end_to_end(postgres_server: PostgresServer, seeded_parent: str) -> None:
    parent_before = table_checksums(seeded_parent)
    emails = {r[0] for r in query(seeded_parent, "SELECT email FROM drivers UNION SELECT email FROM users")}
    target = postgres_server.create_database()
    env = {"PARENT_DATABASE_URL": seeded_parent, "SEED_MASKED_COPY_ALLOWED": "true", "SANDBOX_SLUG": "sandbox-m1"}
    seed(target, "masked-copy", "msp,cpo", 3, env=env)
    assert table_checksums(seeded_parent) == parent_before
    after = {r[0] for r in query(target, "SELECT email FROM drivers UNION SELECT email FROM users")}
    assert not emails & after
    assert scalar(target, "SELECT count(*) FROM users WHERE password_hash IS NOT NULL OR login_secret IS NOT NULL") == 0
    assert query(target, "SELECT address FROM mailboxes") == [("sandbox-m1-support@sandbox.invalid",)]
    assert scalar(target, "SELECT count(*) FROM support_tickets WHERE status <> 'closed'") == 0
    assert scalar(target, "SELECT count(*) FROM scheduled_tasks WHERE enabled") == 0
    assert scalar(target, "SELECT count(*) FROM app_authorizations") == 0
    assert scalar(target, "SELECT count(*) FROM optins WHERE enabled") == 0
    # row counts otherwise equal: customer data is kept (seed 002)
    assert scalar(target, "SELECT count(*) FROM charging_sessions") == scalar(
        seeded_parent, "SELECT count(*) FROM charging_sessions")
    assert records(target)[-1][1] == "masked-copy"


def test_masked_copy_refused_by_policy_writes_nothing(fresh_database: str, seeded_parent: str) -> None:
    proc = seed_cli(*run_args("masked-copy"), env={"DATABASE_URL": fresh_database,
                                                  "PARENT_DATABASE_URL": seeded_parent})
    assert proc.returncode == 6 and "SEED_MASKED_COPY_ALLOWED" in one_line_error(proc)
    assert public_tables(fresh_database) == set()


def test_parent_with_older_schema_is_refused(postgres_server: PostgresServer, fresh_database: str) -> None:
    from sandbox_seed.migrate import migrate

    parent = postgres_server.create_database()
    with psycopg.connect(parent) as conn:
        migrate(conn, target=1)
    proc = seed_cli(*run_args("copy"), env={"DATABASE_URL": fresh_database, "PARENT_DATABASE_URL": parent})
    line = one_line_error(proc)
    assert proc.returncode == 5 and "schema version 1, older" in line
    assert public_tables(fresh_database) == set()  # nothing written
    bare = postgres_server.create_database()
    proc = seed_cli(*run_args("copy"), env={"DATABASE_URL": fresh_database, "PARENT_DATABASE_URL": bare})
    assert proc.returncode == 5 and "no sandbox schema" in one_line_error(proc)


def test_unreachable_database(fresh_database: str) -> None:
    proc = seed_cli(*run_args("blank"), env={"DATABASE_URL": "postgresql://u:p@127.0.0.1:1/db",
                                             "SEED_CONNECT_TIMEOUT": "1"})
    line = one_line_error(proc)
    assert proc.returncode == 3 and "unreachable" in line and "127.0.0.1:1/db" in line and ":p@" not in line
    assert proc.stdout.count("not reachable (attempt") >= 2  # retried with backoff, each attempt logged


def test_unreachable_parent_writes_nothing(fresh_database: str) -> None:
    proc = seed_cli(*run_args("copy"), env={"DATABASE_URL": fresh_database, "SEED_CONNECT_TIMEOUT": "1",
                                            "PARENT_DATABASE_URL": "postgresql://u:p@127.0.0.1:1/parent"})
    assert proc.returncode == 3 and "parent database" in one_line_error(proc)
    assert public_tables(fresh_database) == set()


def test_wrong_credentials(postgres_server: PostgresServer, fresh_database: str) -> None:
    dbname = fresh_database.rsplit("/", 1)[1]
    postgres_server.create_role("seeder", "right-password")
    url = postgres_server.url(dbname, user="seeder", password="wrong-password")
    proc = seed_cli(*run_args("blank"), env={"DATABASE_URL": url, "SEED_CONNECT_TIMEOUT": "30"})
    line = one_line_error(proc)
    assert proc.returncode == 4 and "password authentication failed" in line and "wrong-password" not in line
    assert proc.stdout.count("attempt") == 0  # no pointless retries on bad credentials
    missing = postgres_server.url("no_such_db")
    proc = seed_cli(*run_args("blank"), env={"DATABASE_URL": missing})
    assert proc.returncode == 4 and "does not exist" in one_line_error(proc)


def test_waits_for_a_database_that_comes_up_late(postgres_server: PostgresServer, fresh_database: str) -> None:
    """The Service's endpoint may appear after the Job starts: retry until SEED_CONNECT_TIMEOUT."""
    import socket
    import threading

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # a tiny TCP forwarder that starts listening 2 s late, then relays to the real server
    stop = threading.Event()

    def relay(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for x in (a, b):
                with contextlib.suppress(OSError):
                    x.shutdown(socket.SHUT_RDWR)

    def serve() -> None:
        stop.wait(2)
        with socket.socket() as ls:
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind(("127.0.0.1", port))
            ls.listen()
            ls.settimeout(0.2)
            while not stop.is_set():
                try:
                    c, _ = ls.accept()
                except TimeoutError:
                    continue
                u = socket.create_connection(("127.0.0.1", postgres_server.port))
                threading.Thread(target=relay, args=(c, u), daemon=True).start()
                threading.Thread(target=relay, args=(u, c), daemon=True).start()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        url = fresh_database.replace(f":{postgres_server.port}/", f":{port}/")
        proc = seed(url, "blank", env={"SEED_CONNECT_TIMEOUT": "30"})
        assert "not reachable (attempt 1)" in proc.stdout and "connected to target database" in proc.stdout
    finally:
        stop.set()
        t.join(5)


def test_target_with_newer_schema_is_refused(fresh_database: str) -> None:
    seed(fresh_database, "blank")
    query(fresh_database, "INSERT INTO schema_migrations (version, name, checksum) VALUES (99, 'future', 'x') "
                          "RETURNING version")
    proc = seed_cli(*run_args("preconfigured"), env={"DATABASE_URL": fresh_database})
    assert proc.returncode == 5 and "newer" in one_line_error(proc)
