"""Command line: ``python3 -m sandbox_seed run --mode … --modules … --size … --random-seed N [--reset]
[--reset-generation N] [--dry-run]``.

This is a fixed contract with the Pulumi stack's seed Job (see README). Progress goes to stdout;
a failure is exactly ONE line on stderr plus a non-zero exit code (see errors.py for the codes).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import NoReturn

from sandbox_seed import __version__
from sandbox_seed.errors import SeedError, UsageError
from sandbox_seed.settings import MODES, SIZES, build_request

log = logging.getLogger("sandbox_seed")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (the Job's contract), not usage + message."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python3 -m sandbox_seed", description="Seed a sandbox database.")
    parser.add_argument("--version", action="version", version=f"sandbox_seed {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser(
        "run",
        help="seed the database named by DATABASE_URL",
        description="Seed DATABASE_URL. Environment: DATABASE_URL, PARENT_DATABASE_URL (copy modes), SANDBOX_SLUG, "
        "SEED_MASKED_COPY_ALLOWED (default false), SEED_CONNECT_TIMEOUT (default 60 s), "
        "SEED_REFERENCE_TIME (ISO-8601 'now' of preconfigured data, default 2026-01-01T00:00:00Z).",
    )
    run.add_argument("--mode", required=True, help=f"one of {', '.join(MODES)}")
    run.add_argument("--modules", required=True, help="comma list of msp, cpo (one or both)")
    run.add_argument("--size", required=True, help=f"one of {', '.join(SIZES)} (preconfigured data volume)")
    run.add_argument("--random-seed", required=True, type=int, help="seed of the preconfigured data and pseudonyms")
    run.add_argument("--reset", action="store_true",
                     help="empty business tables first (else a non-empty DB is refused)")
    run.add_argument("--reset-generation", type=int, default=0, metavar="N",
                     help="reset once per new N: a run whose N is above the latest seed record's empties business "
                     "tables and seeds again; the same N again is a no-op (how a stack re-seeds a sandbox)")
    run.add_argument("--dry-run", action="store_true",
                     help="validate arguments and environment only; touch no database; exit 0 if acceptable")
    return parser


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s sandbox_seed %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False


def main(argv: list[str] | None = None) -> int:
    """Parse, validate, run; map every failure to one stderr line and its exit code."""
    _configure_logging()
    try:
        args = build_parser().parse_args(argv)
        req = build_request(args.mode, args.modules, args.size, args.random_seed, args.reset,
                            reset_generation=args.reset_generation)
        if args.dry_run:
            print(f"dry-run ok: {req.describe()}", flush=True)
            return 0
        from sandbox_seed.runner import run  # imported late: --help/--dry-run need no database driver work

        result = run(req)
        print(f"{result.outcome}: mode={req.mode} modules={','.join(req.modules)} checksum={result.checksum or '-'}",
              flush=True)
        return 0
    except SeedError as exc:
        sys.stdout.flush()
        print(f"sandbox_seed: error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        print("sandbox_seed: error: interrupted", file=sys.stderr, flush=True)
        return 130
    except Exception as exc:  # anything unforeseen still honours the one-line contract
        sys.stdout.flush()
        print(f"sandbox_seed: error: unexpected {type(exc).__name__}: {' '.join(str(exc).split())}",
              file=sys.stderr, flush=True)
        return 1
