"""Which devices exist, stored as counters and creation batches rather than per-device records.

Device ``n`` of a kind exists iff ``n < count[kind]``; its id is ``device_id(kind, n)`` and decodes back to ``n``,
so registering a million devices costs one batch record (a few hundred bytes), not a million objects. Names are
derived from the batch's prefix. Overrides are the only per-device storage, and only for devices that have them.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Final

from device_simulator.ids import KINDS, MAX_INDEX, Kind, check_kind, device_id, parse_device_id
from device_simulator.overrides import Override, validate_override

MAX_OVERRIDES_PER_DEVICE: Final[int] = 100


class NotFoundError(LookupError):
    """The id is well formed but no such device (or override) is registered."""


class ConflictError(RuntimeError):
    """The request is valid but cannot be honoured in the current state (e.g. too many overrides)."""


@dataclass(frozen=True, slots=True)
class Batch:
    """Devices ``first .. first + count - 1`` of one kind, created together."""

    kind: Kind
    first: int
    count: int
    name_prefix: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """Registry view of one device (no behaviour state)."""

    id: str
    kind: Kind
    index: int
    name: str
    created_at: datetime


def encode_cursor(kind: Kind, index: int) -> str:
    """Opaque page cursor: where the next page starts."""
    return base64.urlsafe_b64encode(f"{kind}:{index}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Kind, int]:
    """Inverse of :func:`encode_cursor`; ``ValueError`` on anything it did not produce."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind_s, index_s = raw.split(":")
        return check_kind(kind_s), int(index_s)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValueError("malformed cursor; pass back the 'next_cursor' value of the previous page unchanged") from None


class Registry:
    """Thread-safe in-memory registry (uvicorn may serve requests from a thread pool)."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        """``clock`` is injectable so tests can pin "now"."""
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._count: dict[Kind, int] = dict.fromkeys(KINDS, 0)
        self._batches: dict[Kind, list[Batch]] = {k: [] for k in KINDS}
        self._firsts: dict[Kind, list[int]] = {k: [] for k in KINDS}
        self._overrides: dict[str, list[Override]] = {}
        self._override_seq = itertools.count(1)

    def create(self, kind: str, count: int, name_prefix: str | None = None) -> Batch:
        """Register the next ``count`` devices of ``kind``; a fresh registry hands out indices 0, 1, 2, ..."""
        k = check_kind(kind)
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            first = self._count[k]
            if first + count - 1 > MAX_INDEX:
                raise ConflictError(f"the id space for {k} is exhausted ({MAX_INDEX + 1} devices)")
            batch = Batch(k, first, count, name_prefix, self.clock())
            self._batches[k].append(batch)
            self._firsts[k].append(first)
            self._count[k] = first + count
        return batch

    def count(self, kind: Kind) -> int:
        """Number of registered devices of ``kind``."""
        return self._count[kind]

    def _info(self, kind: Kind, n: int) -> DeviceInfo:
        batch = self._batches[kind][bisect.bisect_right(self._firsts[kind], n) - 1]
        did = device_id(kind, n)
        name = f"{batch.name_prefix}{n - batch.first + 1}" if batch.name_prefix else did
        return DeviceInfo(did, kind, n, name, batch.created_at)

    def describe(self, value: str) -> DeviceInfo:
        """Registry info for a device id; raises ``MalformedIdError`` or :class:`NotFoundError`."""
        kind, n = parse_device_id(value)
        if n >= self._count[kind]:
            raise NotFoundError(
                f"device {value} is not registered; create devices with POST /v1/devices "
                f"(a fresh simulator hands out device_id(kind, 0), device_id(kind, 1), ...)"
            )
        return self._info(kind, n)

    def page(self, kind: Kind | None, limit: int, cursor: str | None) -> tuple[list[DeviceInfo], str | None]:
        """Up to ``limit`` devices ordered by kind then index, and the cursor of the next page (None at the end)."""
        kinds = [kind] if kind else list(KINDS)
        pos_kind, pos = (kinds[0], 0) if cursor is None else decode_cursor(cursor)
        if pos_kind not in kinds:
            raise ValueError("cursor belongs to a different 'kind' filter; restart without a cursor")
        out: list[DeviceInfo] = []
        for k in kinds[kinds.index(pos_kind):]:
            start = pos if k == pos_kind else 0
            n = start
            while n < self._count[k] and len(out) < limit:
                out.append(self._info(k, n))
                n += 1
            if len(out) == limit:
                if n < self._count[k]:
                    return out, encode_cursor(k, n)
                later = [k2 for k2 in kinds[kinds.index(k) + 1:] if self._count[k2] > 0]
                return out, (encode_cursor(later[0], 0) if later else None)
        return out, None

    def add_override(self, override: Override) -> Override:
        """Validate and store an override (its id is assigned here)."""
        self.describe(override.device_id)
        validate_override(override)
        with self._lock:
            items = self._overrides.setdefault(override.device_id, [])
            if len(items) >= MAX_OVERRIDES_PER_DEVICE:
                raise ConflictError(
                    f"device already has {MAX_OVERRIDES_PER_DEVICE} overrides; DELETE some before adding more"
                )
            stored = replace(override, id=f"ovr-{next(self._override_seq)}")
            items.append(stored)
        return stored

    def overrides(self, value: str) -> tuple[Override, ...]:
        """All overrides of a device, expired ones included (they still shape historical readings)."""
        return tuple(self._overrides.get(value, ()))

    def delete_override(self, value: str, override_id: str | None) -> int:
        """Delete one override (or all when ``override_id`` is None); returns how many were removed."""
        self.describe(value)
        with self._lock:
            items = self._overrides.get(value, [])
            if override_id is None:
                removed = len(items)
                self._overrides.pop(value, None)
                return removed
            kept = [o for o in items if o.id != override_id]
            if len(kept) == len(items):
                raise NotFoundError(f"override {override_id} not found on device {value}")
            self._overrides[value] = kept
            return 1

