"""The validated request: CLI arguments + environment, checked before any connection is opened.

Why a separate step: ``run --dry-run`` (used by the contract test and by humans) must prove that the
arguments and environment the Job declares are accepted, without touching a database.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sandbox_seed.db import validate_url
from sandbox_seed.errors import PolicyRefusedError, UsageError

MODES = ("blank", "preconfigured", "copy", "masked-copy")
MODULES = ("msp", "cpo")
SIZES = ("small", "medium", "large")
DEFAULT_CONNECT_TIMEOUT = 60.0
# Fixed default "now" for preconfigured data: identical seed → identical rows → identical checksum.
DEFAULT_REFERENCE_TIME = "2026-01-01T00:00:00+00:00"
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def parse_modules(text: str) -> tuple[str, ...]:
    """'msp,cpo' → ('cpo', 'msp'): known names only, no duplicates, at least one; canonical order."""
    names = [m.strip().lower() for m in text.split(",")]
    if not names or any(not n for n in names):
        raise UsageError(f"--modules must be a comma list of {', '.join(MODULES)}, got {text!r}")
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        raise UsageError(f"unknown module {unknown[0]!r} in --modules (known: {', '.join(MODULES)})")
    if len(set(names)) != len(names):
        raise UsageError(f"duplicate module in --modules {text!r}")
    return tuple(sorted(names))


def parse_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    low = raw.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise UsageError(f"{name} must be 'true' or 'false', got {raw!r}")


@dataclass(frozen=True)
class SeedRequest:
    """Everything one run needs, validated."""

    mode: str
    modules: tuple[str, ...]
    size: str
    random_seed: int
    reset: bool
    database_url: str
    parent_database_url: str | None
    slug: str | None
    masked_copy_allowed: bool
    connect_timeout: float
    reference_time: datetime
    reset_generation: int = 0

    @property
    def is_copy(self) -> bool:
        return self.mode in ("copy", "masked-copy")

    def describe(self) -> str:
        """One line for logs (no secrets: URLs redacted)."""
        src = f" from {validate_url(self.parent_database_url, 'PARENT_DATABASE_URL')}" if self.parent_database_url \
            and self.is_copy else ""
        return (f"mode={self.mode} modules={','.join(self.modules)} size={self.size} seed={self.random_seed} "
                f"reset={self.reset} generation={self.reset_generation} slug={self.slug or '-'} "
                f"target={validate_url(self.database_url, 'DATABASE_URL')}"
                f"{src}")


def build_request(mode: str, modules: str, size: str, random_seed: int, reset: bool,
                  env: Mapping[str, str] | None = None, reset_generation: int = 0) -> SeedRequest:
    """Validate arguments and environment; raise a SeedError subclass naming the first problem."""
    env = os.environ if env is None else env
    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r} (known: {', '.join(MODES)})")
    mods = parse_modules(modules)
    if size not in SIZES:
        raise UsageError(f"unknown size {size!r} (known: {', '.join(SIZES)})")
    if not -(2**63) <= random_seed < 2**63:
        raise UsageError("--random-seed must fit in a signed 64-bit integer")
    if not 0 <= reset_generation < 2**31:
        raise UsageError("--reset-generation must be a whole number from 0 (never reset) up")
    allowed = parse_bool(env, "SEED_MASKED_COPY_ALLOWED", False)
    if mode == "masked-copy" and not allowed:
        raise PolicyRefusedError(
            "masked-copy refused: the project policy SEED_MASKED_COPY_ALLOWED is off (production copies are "
            "forbidden unless explicitly enabled)"
        )
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        raise UsageError("DATABASE_URL is not set")
    validate_url(url, "DATABASE_URL")
    parent = env.get("PARENT_DATABASE_URL", "").strip() or None
    if mode in ("copy", "masked-copy"):
        if not parent:
            raise UsageError(f"mode {mode} needs PARENT_DATABASE_URL")
        validate_url(parent, "PARENT_DATABASE_URL")
        if _same_database(url, parent):
            raise UsageError("PARENT_DATABASE_URL and DATABASE_URL name the same database")
    raw_timeout = env.get("SEED_CONNECT_TIMEOUT", "").strip()
    try:
        timeout = float(raw_timeout) if raw_timeout else DEFAULT_CONNECT_TIMEOUT
    except ValueError as exc:
        raise UsageError(f"SEED_CONNECT_TIMEOUT must be a number of seconds, got {raw_timeout!r}") from exc
    if timeout < 0:
        raise UsageError("SEED_CONNECT_TIMEOUT must not be negative")
    raw_ref = env.get("SEED_REFERENCE_TIME", "").strip() or DEFAULT_REFERENCE_TIME
    try:
        ref = datetime.fromisoformat(raw_ref)
    except ValueError as exc:
        raise UsageError(f"SEED_REFERENCE_TIME must be an ISO-8601 timestamp, got {raw_ref!r}") from exc
    ref = ref.replace(tzinfo=UTC) if ref.tzinfo is None else ref.astimezone(UTC)
    slug = env.get("SANDBOX_SLUG", "").strip() or None
    return SeedRequest(mode, mods, size, random_seed, reset, url, parent, slug, allowed, timeout,
                       ref.replace(microsecond=0), reset_generation)


def _same_database(a: str, b: str) -> bool:
    from urllib.parse import urlsplit

    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.hostname, pa.port or 5432, pa.path.strip("/")) == (pb.hostname, pb.port or 5432, pb.path.strip("/"))
