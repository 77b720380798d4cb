"""Simulated devices in the seed data: the simulator's id algorithm and how many devices each size links.

Why a reimplementation: the seed image must not depend on the device simulator (separate images), but the
rows it writes must name exactly the ids a simulator started with ``SIMULATOR_PRESEED=kind=N`` registers,
``device_id(kind, 0..N-1)``. The algorithm is tiny and documented in device-simulator/README.md ("Id
algorithm"); tests/seed_jobs/test_devices.py checks this copy against ``device_simulator.ids``.

Why one count table: the stack's Pulumi component (``components/sizes.py``) sets ``SIMULATOR_PRESEED`` from
its own copy of the same numbers; tests/components/test_devices_preseed_contract.py keeps the two equal.
"""

from __future__ import annotations

from typing import Final

KINDS: Final[tuple[str, ...]] = ("vehicle", "battery", "solar_inverter")
PREFIX: Final[dict[str, str]] = {"vehicle": "veh", "battery": "bat", "solar_inverter": "sol"}
SALT: Final[dict[str, int]] = {"vehicle": 0x1F2E3D4C5B6A, "battery": 0x2A3B4C5D6E7F, "solar_inverter": 0x3C4D5E6F7081}
MULTIPLIER: Final[int] = 0x9E3779B97F4B  # odd, hence a bijection modulo 2**48
MASK: Final[int] = (1 << 48) - 1

# Devices linked per size: vehicles belong to MSP drivers, batteries and solar inverters to CPO locations.
DEVICE_COUNTS: Final[dict[str, dict[str, int]]] = {
    "small": {"vehicle": 20, "battery": 10, "solar_inverter": 10},
    "medium": {"vehicle": 200, "battery": 100, "solar_inverter": 100},
    "large": {"vehicle": 2000, "battery": 1000, "solar_inverter": 1000},
}
KIND_MODULE: Final[dict[str, str]] = {"vehicle": "msp", "battery": "cpo", "solar_inverter": "cpo"}


def device_id(kind: str, n: int) -> str:
    """Id of the ``n``-th (0-based) simulator device of ``kind``; must equal ``device_simulator.ids.device_id``."""
    if kind not in SALT:
        raise ValueError(f"unknown device kind {kind!r}; use one of: {', '.join(KINDS)}")
    if not 0 <= n <= MASK:
        raise ValueError(f"device index must be in 0..{MASK}, got {n}")
    a = (n * MULTIPLIER + SALT[kind]) & MASK
    x = a ^ (a >> 24)
    return f"{PREFIX[kind]}-{x:012x}"


def device_counts(size: str, modules: tuple[str, ...] | list[str], *, n_drivers: int | None = None,
                  n_locations: int | None = None) -> dict[str, int]:
    """Devices of each kind that preconfigured data of ``size`` links for ``modules`` (the ONE source of counts).

    A kind whose module is not chosen gets 0 (nothing to link it to). ``n_drivers``/``n_locations`` cap the
    counts so every device has its own driver/location; with the size presets they never bind (asserted by
    the tests), which keeps the component's preseed exactly equal to the seeded ids.
    """
    caps = {"vehicle": n_drivers, "battery": n_locations, "solar_inverter": n_locations}
    out: dict[str, int] = {}
    for kind, count in DEVICE_COUNTS[size].items():
        n = count if KIND_MODULE[kind] in modules else 0
        cap = caps[kind]
        out[kind] = n if cap is None else min(n, cap)
    return out
