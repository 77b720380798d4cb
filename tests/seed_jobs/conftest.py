"""Helpers for the seed-job tests: run the program as the Job does (a real subprocess) and inspect DBs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.fixtures.postgres import PostgresServer

SEED_DIR = Path(__file__).resolve().parents[2] / "seed-jobs"
PY = sys.executable  # the venv interpreter plays the image's python3 (same stdlib + psycopg)


def seed_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python3 -m sandbox_seed <args>`` with PYTHONPATH like the image (/app ≙ seed-jobs/)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "PARENT_", "SEED_"))}
    full_env.update({"PYTHONPATH": str(SEED_DIR), "SEED_CONNECT_TIMEOUT": "5"})
    full_env.update(env or {})
    return subprocess.run([PY, "-m", "sandbox_seed", *args], cwd=SEED_DIR, env=full_env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def run_args(mode: str, modules: str = "msp,cpo", size: str = "small", seed: int = 42, *extra: str) -> list[str]:
    return ["run", "--mode", mode, "--modules", modules, "--size", size, "--random-seed", str(seed), *extra]


def seed(url: str, mode: str, modules: str = "msp,cpo", seed_: int = 42, *extra: str,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a seed and assert success (with the program's output in the failure message)."""
    proc = seed_cli(*run_args(mode, modules, "small", seed_, *extra), env={"DATABASE_URL": url, **(env or {})})
    assert proc.returncode == 0, f"rc={proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The contract: non-zero exit and exactly one line on stderr."""
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("sandbox_seed: error: ")
    return lines[0]


def query(url: str, q: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, options="-c TimeZone=UTC") as conn:
        return conn.execute(q, params).fetchall()  # type: ignore[arg-type]


def scalar(url: str, q: str, params: Any = None) -> Any:
    return query(url, q, params)[0][0]


def public_tables(url: str) -> set[str]:
    return {r[0] for r in query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


@pytest.fixture(scope="session")
def seeded_parent(postgres_server: PostgresServer) -> Iterator[str]:
    """A preconfigured (both modules, seed 42) database, seeded once, used as copy parent. Treat as read-only."""
    url = postgres_server.create_database()
    seed(url, "preconfigured", "msp,cpo", 42, env={"SANDBOX_SLUG": "sandbox-parent"})
    yield url
