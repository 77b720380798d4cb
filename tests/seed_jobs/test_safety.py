"""Failure paths inside a run (rollback + 'failed' seed record), read-only parent, generator invariants."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from sandbox_seed import cli, generate
from sandbox_seed.db import connect
from sandbox_seed.generate import COLUMNS, GENERATORS, Plan
from tests.seed_jobs.conftest import query, scalar, seed

REF = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.postgres
def test_failure_mid_load_rolls_back_and_marks_failed(fresh_database: str, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    seed(fresh_database, "blank")  # schema exists: a failure can be recorded
    real = generate.load_table

    def flaky(conn: psycopg.Connection, plan: Plan, table: str) -> int:
        if table == "charging_sessions":
            raise RuntimeError("disk full (simulated)")
        return real(conn, plan, table)

    monkeypatch.setattr(generate, "load_table", flaky)
    monkeypatch.setenv("DATABASE_URL", fresh_database)
    rc = cli.main(["run", "--mode", "preconfigured", "--modules", "msp,cpo", "--size", "small",
                   "--random-seed", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1 and "rolled back" in err[0] and "disk full" in err[0]
    assert scalar(fresh_database, "SELECT count(*) FROM providers") == 0  # earlier tables rolled back too
    rows = query(fresh_database, "SELECT status, mode, error FROM seed_record ORDER BY id")
    assert [r[:2] for r in rows] == [("succeeded", "blank"), ("failed", "preconfigured")]
    assert "disk full" in rows[-1][2]


@pytest.mark.postgres
def test_failure_on_a_fresh_database_leaves_it_untouched(fresh_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(conn: psycopg.Connection, plan: Plan) -> dict[str, int]:
        raise RuntimeError("boom")

    import sandbox_seed.runner as runner

    monkeypatch.setattr(runner, "load_preconfigured", broken)
    monkeypatch.setenv("DATABASE_URL", fresh_database)
    assert cli.main(["run", "--mode", "preconfigured", "--modules", "cpo", "--size", "small",
                     "--random-seed", "1"]) == 1
    assert query(fresh_database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == []


@pytest.mark.postgres
def test_parent_connection_is_read_only(seeded_parent: str) -> None:
    conn = connect(seeded_parent, name="parent database", timeout=5, read_only=True)
    try:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO roles (name, description) VALUES ('evil', 'x')")
        conn.rollback()
        conn.autocommit = True
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):  # even outside an explicit transaction
            conn.execute("DELETE FROM roles")
    finally:
        conn.close()


@pytest.mark.parametrize("modules", [("msp",), ("cpo",), ("cpo", "msp")])
def test_generated_rows_match_their_columns_and_are_deterministic(modules: tuple[str, ...]) -> None:
    plan = Plan(modules, "small", 99, REF)
    for table, n in plan.counts().items():
        lines = list(GENERATORS[table](plan)) if n else []
        assert len(lines) == n, table
        assert all(line.endswith("\n") and line.count("\t") == len(COLUMNS[table]) - 1 for line in lines), table
        assert not any("\\" in line.replace("\\N", "") for line in lines), table
        assert lines == list(GENERATORS[table](plan)) if n else True


def test_sizes_scale_about_a_hundredfold() -> None:
    totals = {s: sum(Plan(("cpo", "msp"), s, 1, REF).counts().values()) for s in ("small", "medium", "large")}
    assert 800 <= totals["small"] <= 1_200
    assert 80_000 <= totals["medium"] <= 120_000
    assert 800_000 <= totals["large"] <= 1_200_000
