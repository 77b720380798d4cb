"""UTC time handling: the model works in float minutes since 2000-01-01T00:00Z.

Minutes (not datetimes) keep the arithmetic cheap and exact enough (float64 has ~1e-8 min resolution over the
whole supported century), and a single explicit range makes out-of-range input a clear client error.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

EPOCH: Final[datetime] = datetime(2000, 1, 1, tzinfo=UTC)
RANGE_END: Final[datetime] = datetime(2100, 1, 1, tzinfo=UTC)
MINUTES_PER_DAY: Final[int] = 1440
MAX_MINUTE: Final[float] = (RANGE_END - EPOCH).total_seconds() / 60.0


class TimeRangeError(ValueError):
    """A time is outside the supported simulation range."""


def to_minutes(at: datetime) -> float:
    """Convert an aware datetime (naive means UTC) to model minutes, rejecting times outside the range."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    if not EPOCH <= at < RANGE_END:
        raise TimeRangeError(
            f"time {at.isoformat()} is outside the supported range "
            f"{EPOCH.isoformat()} (inclusive) .. {RANGE_END.isoformat()} (exclusive)"
        )
    return (at - EPOCH).total_seconds() / 60.0


def from_minutes(minutes: float) -> datetime:
    """Inverse of :func:`to_minutes` (microsecond rounding)."""
    return EPOCH + timedelta(microseconds=round(minutes * 60_000_000))


def parse_time(text: str) -> datetime:
    """Parse ISO 8601 (``Z`` or offset; naive is taken as UTC) and return an aware UTC datetime in range."""
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"cannot parse time {text!r}; use ISO 8601 such as 2025-06-01T08:30:00Z"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    to_minutes(value)
    return value


_STEP = re.compile(r"^(?:(\d+)([smhd]?)|P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?)$", re.IGNORECASE)


def parse_step(text: str) -> timedelta:
    """Parse a series step: plain seconds (``900``), ``15m``/``1h``/``30s``/``1d`` or ISO 8601 (``PT15M``)."""
    m = _STEP.match(text.strip())
    if m is None or text.strip().upper() in {"P", "PT"}:
        raise ValueError(f"cannot parse step {text!r}; use seconds (900), 15m, 1h or ISO 8601 like PT15M")
    if m.group(1) is not None:
        unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2).lower()]
        seconds = int(m.group(1)) * unit
    else:
        d, h, mi, s = (int(g) if g else 0 for g in m.groups()[2:])
        seconds = ((d * 24 + h) * 60 + mi) * 60 + s
    if seconds <= 0:
        raise ValueError(f"step must be positive, got {text!r}")
    return timedelta(seconds=seconds)
