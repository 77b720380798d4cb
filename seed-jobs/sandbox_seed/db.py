"""Connecting: URL checks, redaction, retry with backoff, and telling 'unreachable' from 'bad credentials'.

Why retry: in Kubernetes the database Service may get its endpoint a second after the Job starts;
a seed Job that dies on the first refused connection would fail a perfectly good stack.
Why not retry credentials errors: they never heal by waiting, and the message must name them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

import psycopg

from sandbox_seed.errors import CredentialsError, UnreachableError, UsageError

log = logging.getLogger("sandbox_seed")

_CREDENTIAL_MARKERS = (
    "password authentication failed",
    "no password supplied",
    "authentication failed",
    "role \"",  # role "x" does not exist
    "does not exist",  # database "x" does not exist
    "permission denied for database",
    "no pg_hba.conf entry",
)


def validate_url(url: str, name: str) -> str:
    """Check that ``url`` is a usable postgresql:// URL; return its redacted form for messages."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise UsageError(f"{name} must be a postgresql:// URL, got scheme {parts.scheme or '(none)'!r}")
    if not parts.hostname:
        raise UsageError(f"{name} has no host")
    if not parts.path.strip("/"):
        raise UsageError(f"{name} names no database")
    try:
        _ = parts.port
    except ValueError as exc:
        raise UsageError(f"{name} has an invalid port") from exc
    return redact(url)


def redact(url: str) -> str:
    """user@host:port/db — never the password (messages end up in pod logs)."""
    p = urlsplit(url)
    user = unquote(p.username) + "@" if p.username else ""
    port = f":{p.port}" if p.port else ""
    return f"{user}{p.hostname}{port}/{p.path.strip('/')}"


def is_credentials_problem(message: str) -> bool:
    """True when the server answered and refused us (no point retrying)."""
    low = message.lower()
    return any(m in low for m in _CREDENTIAL_MARKERS)


def connect(
    url: str,
    *,
    name: str,
    timeout: float,
    read_only: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> psycopg.Connection:
    """Connect with exponential backoff until ``timeout`` seconds have passed, logging every attempt.

    ``read_only`` opens the source of a copy: every transaction of the session is read-only, so no
    bug here can write to a parent (let alone production) database.
    """
    where = redact(url)
    deadline = time.monotonic() + timeout
    delay = 0.5
    attempt = 0
    while True:
        attempt += 1
        remaining = deadline - time.monotonic()
        per_try = max(1, min(10, int(remaining) if remaining > 1 else 1))
        try:
            options = "-c TimeZone=UTC" + (" -c default_transaction_read_only=on" if read_only else "")
            conn = psycopg.connect(url, connect_timeout=per_try, options=options, application_name="sandbox_seed")
            log.info("connected to %s %s (attempt %d)%s", name, where, attempt, " read-only" if read_only else "")
            if read_only:
                conn.read_only = True
            return conn
        except psycopg.OperationalError as exc:
            reason = " ".join(str(exc).split())
            if is_credentials_problem(reason):
                detail = reason.split("FATAL:")[-1].strip()
                raise CredentialsError(f"{name} {where} refused the login: {detail}") from exc
            remaining = deadline - time.monotonic()
            log.info("%s %s not reachable (attempt %d): %s", name, where, attempt, reason)
            if remaining <= 0:
                raise UnreachableError(
                    f"{name} {where} unreachable after {attempt} attempts in {timeout:g}s: {reason}"
                ) from exc
            sleep(min(delay, remaining))
            delay = min(delay * 2, 5.0)
