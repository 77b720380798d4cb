"""Deterministic, reversible device ids.

Seed programs link simulated devices to drivers and sites *without importing this package*, so the algorithm is
deliberately tiny and documented in README.md ("Id algorithm"): any language can reproduce it.

    a  = (n * K + S[kind]) mod 2**48
    x  = a XOR (a >> 24)
    id = PREFIX[kind] + "-" + format(x, "012x")

Both steps are bijections on 48-bit integers, so an id decodes back to ``(kind, n)`` in O(1): the registry never
needs a per-device lookup table, which is what keeps a million registered devices cheap.
"""

from __future__ import annotations

import re
from typing import Final, Literal, get_args

Kind = Literal["vehicle", "battery", "solar_inverter"]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)

PREFIX: Final[dict[Kind, str]] = {"vehicle": "veh", "battery": "bat", "solar_inverter": "sol"}
KIND_OF_PREFIX: Final[dict[str, Kind]] = {v: k for k, v in PREFIX.items()}
SALT: Final[dict[Kind, int]] = {"vehicle": 0x1F2E3D4C5B6A, "battery": 0x2A3B4C5D6E7F, "solar_inverter": 0x3C4D5E6F7081}
MULTIPLIER: Final[int] = 0x9E3779B97F4B  # odd, hence invertible modulo 2**48
MASK: Final[int] = (1 << 48) - 1
MAX_INDEX: Final[int] = MASK  # n ranges over 0 .. 2**48 - 1
_INVERSE: Final[int] = pow(MULTIPLIER, -1, 1 << 48)
ID_PATTERN: Final[re.Pattern[str]] = re.compile(r"^(veh|bat|sol)-([0-9a-f]{12})$")


class MalformedIdError(ValueError):
    """The string cannot be a simulator device id (wrong prefix or not 12 lowercase hex digits)."""


def check_kind(kind: str) -> Kind:
    """Return ``kind`` typed as :data:`Kind`, or raise ``ValueError`` listing the accepted kinds."""
    for known in KINDS:
        if kind == known:
            return known
    raise ValueError(f"unknown device kind {kind!r}; use one of: {', '.join(KINDS)}")


def device_id(kind: str, n: int) -> str:
    """Return the id of the ``n``-th (0-based) device of ``kind``; pure, so seed data can reproduce it offline."""
    k = check_kind(kind)
    if not 0 <= n <= MAX_INDEX:
        raise ValueError(f"device index must be in 0..{MAX_INDEX}, got {n}")
    a = (n * MULTIPLIER + SALT[k]) & MASK
    x = a ^ (a >> 24)
    return f"{PREFIX[k]}-{x:012x}"


def parse_device_id(value: str) -> tuple[Kind, int]:
    """Invert :func:`device_id`; raises :class:`MalformedIdError` with a hint when ``value`` is not an id."""
    m = ID_PATTERN.match(value)
    if m is None:
        raise MalformedIdError(
            f"malformed device id {value!r}; ids look like 'veh-', 'bat-' or 'sol-' followed by 12 lowercase hex digits"
        )
    kind = KIND_OF_PREFIX[m.group(1)]
    x = int(m.group(2), 16)
    a = x ^ (x >> 24)
    n = ((a - SALT[kind]) * _INVERSE) & MASK
    return kind, n
