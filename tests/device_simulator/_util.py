"""Shared strategies and helpers for the device simulator tests."""

from __future__ import annotations

from device_simulator.ids import MAX_INDEX, device_id
from device_simulator.model import DeviceState, base_state_minutes
from device_simulator.timebase import MAX_MINUTE, MINUTES_PER_DAY
from hypothesis import strategies as st

LAST_DAY = int(MAX_MINUTE // MINUTES_PER_DAY) - 2  # leave room for "next day" look-ups

indices = st.integers(min_value=0, max_value=MAX_INDEX)
days = st.integers(min_value=1, max_value=LAST_DAY)


def vehicles() -> st.SearchStrategy[str]:
    """Any vehicle id in the id space."""
    return indices.map(lambda n: device_id("vehicle", n))


def batteries() -> st.SearchStrategy[str]:
    """Any battery id in the id space."""
    return indices.map(lambda n: device_id("battery", n))


def solars() -> st.SearchStrategy[str]:
    """Any solar inverter id in the id space."""
    return indices.map(lambda n: device_id("solar_inverter", n))


def at(device: str, day: int, hour: float) -> DeviceState:
    """State of ``device`` on model ``day`` at ``hour`` (may exceed 24 to reach into the next day)."""
    return base_state_minutes(device, day * MINUTES_PER_DAY + hour * 60.0)


def population(kind: str, size: int, offset: int = 0) -> list[str]:
    """A fixed fleet for "likely" rules, asserted as majorities."""
    return [device_id(kind, offset + i) for i in range(size)]
