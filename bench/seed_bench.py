"""Benchmark: preconfigured seeding vs a plain COPY of the same, pre-rendered rows; memory small vs SIZE.

    python bench/seed_bench.py [--size medium] [--database-url postgresql://…]

Without --database-url it starts its own throw-away PostgreSQL server (the test fixture's code).
Goals (issue #4): seed load within 2x of plain COPY, peak memory flat in --size. Not a test: it prints
numbers and ratios and asserts nothing.

What is measured:
1. seed load: generation + COPY of every table, in-process, one transaction (what `run` does between
   migrations and the checksum), against a fresh migrated database;
2. plain COPY: the same rows rendered to files beforehand, then only COPY FROM those bytes, same setup;
3. the full CLI run (`python -m sandbox_seed run …`) per size as a subprocess: wall time, peak RSS.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED_DIR = ROOT / "seed-jobs"
sys.path[:0] = [str(ROOT), str(SEED_DIR)]

import psycopg  # noqa: E402

from sandbox_seed.generate import GENERATORS, Plan, copy_statement, load_preconfigured  # noqa: E402
from sandbox_seed.migrate import migrate  # noqa: E402

MODULES = ("cpo", "msp")
SEED = 42
REFERENCE = datetime(2026, 1, 1, tzinfo=UTC)
_MAXRSS = ("import resource, sys\nfrom sandbox_seed.cli import main\nrc = main(sys.argv[1:])\n"
           "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(rc)\n")


@contextlib.contextmanager
def server(url: str | None) -> Iterator[tuple[str, object]]:
    """(admin URL, handle with create_database) — own server unless a URL is given."""
    if url:
        class Ext:
            def create_database(self) -> str:
                name = f"bench_{int(time.time() * 1000)}"
                with psycopg.connect(url, autocommit=True) as c:
                    c.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
                return url.rsplit("/", 1)[0] + "/" + name
        yield url, Ext()
        return
    from tests.fixtures.postgres import running_postgres

    with running_postgres() as pg:
        yield pg.url(), pg


def fresh_migrated(pg: object) -> str:
    url = pg.create_database()  # type: ignore[attr-defined]
    with psycopg.connect(url) as conn:
        migrate(conn)
    return url


def bench_seed_load(url: str, plan: Plan) -> tuple[float, int]:
    with psycopg.connect(url, options="-c TimeZone=UTC") as conn, conn.transaction():
        t = time.perf_counter()
        counts = load_preconfigured(conn, plan)
        return time.perf_counter() - t, sum(counts.values())


def render(plan: Plan, directory: Path) -> dict[str, Path]:
    files = {}
    for table, n in plan.counts().items():
        if not n:
            continue
        path = directory / f"{table}.copy"
        with path.open("w") as f:
            for line in GENERATORS[table](plan):
                f.write(line)
        files[table] = path
    return files


def bench_plain_copy(url: str, files: dict[str, Path]) -> float:
    with psycopg.connect(url, options="-c TimeZone=UTC") as conn, conn.transaction():
        t = time.perf_counter()
        for table, path in files.items():
            with conn.cursor() as cur, cur.copy(copy_statement(table)) as cp, path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    cp.write(chunk)
        return time.perf_counter() - t


def bench_cli(url: str, size: str) -> tuple[float, int]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(SEED_DIR), "SANDBOX_SLUG": "sandbox-bench"}
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _MAXRSS, "run", "--mode", "preconfigured", "--modules",
                           ",".join(MODULES), "--size", size, "--random-seed", str(SEED)],
                          env=env, cwd=SEED_DIR, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(f"seed run failed: {proc.stderr.strip()}")
    kb = next(int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("MAXRSS_KB"))
    return wall, kb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="medium", choices=("small", "medium", "large"))
    ap.add_argument("--database-url", help="admin URL of an existing server (default: start one)")
    args = ap.parse_args()
    plan = Plan(MODULES, args.size, SEED, REFERENCE)
    with server(args.database_url) as (_admin, pg), tempfile.TemporaryDirectory() as tmp:
        seed_s, rows = bench_seed_load(fresh_migrated(pg), plan)
        t = time.perf_counter()
        files = render(plan, Path(tmp))
        render_s = time.perf_counter() - t
        mb = sum(p.stat().st_size for p in files.values()) / 1e6
        copy_s = bench_plain_copy(fresh_migrated(pg), files)
        cli = {s: bench_cli(pg.create_database(), s) for s in dict.fromkeys(("small", args.size))}  # type: ignore[attr-defined]
    print(f"size={args.size} rows={rows} ({mb:.1f} MB of COPY text)")
    print(f"seed load (generate+COPY): {seed_s:8.2f}s  {rows / seed_s:10.0f} rows/s")
    print(f"plain COPY (pre-rendered): {copy_s:8.2f}s  {rows / copy_s:10.0f} rows/s"
          f"   (rendering alone took {render_s:.2f}s)")
    print(f"ratio seed/COPY: {seed_s / copy_s:.2f}  (goal <= 2.0)")
    for s, (wall, kb) in cli.items():
        print(f"full CLI run size={s:<6}: {wall:8.2f}s wall, peak RSS {kb / 1024:.1f} MiB")
    small_kb, big_kb = cli["small"][1], cli[args.size][1]
    print(f"peak memory {args.size}/small: {big_kb / small_kb:.2f}  (goal: flat, ~1.0)")


if __name__ == "__main__":
    main()
