"""Ids are reproducible without importing the simulator, and reversible so the registry needs no lookup table."""

from __future__ import annotations

import pytest
from device_simulator.ids import KINDS, MalformedIdError, device_id, parse_device_id
from hypothesis import given, settings
from hypothesis import strategies as st

from ._util import indices


@settings(deadline=None)  # the machine may be busy; no timing assertions here
@given(kind=st.sampled_from(KINDS), n=indices)
def test_round_trip(kind: str, n: int) -> None:
    assert parse_device_id(device_id(kind, n)) == (kind, n)


@settings(deadline=None)  # the machine may be busy; no timing assertions here
@given(n=indices)
def test_kinds_never_collide(n: int) -> None:
    ids = {device_id(k, n) for k in KINDS}
    assert len(ids) == 3


def test_reference_vectors_documented_in_readme() -> None:
    """The README quotes these; a seed program reimplementing the algorithm checks against them."""
    assert device_id("vehicle", 0) == "veh-1f2e3d537557"
    assert device_id("battery", 0) == "bat-2a3b4c775533"
    assert device_id("solar_inverter", 0) == "sol-3c4d5e533ddf"
    assert [device_id("vehicle", n) for n in (1, 2)] == ["veh-bd65b7b8bf02", "veh-5b9d30e4c730"]


def test_reimplementation_from_readme_matches() -> None:
    """Independent transcription of the README algorithm (no shared constants) must agree."""
    salts = {"vehicle": 0x1F2E3D4C5B6A, "battery": 0x2A3B4C5D6E7F, "solar_inverter": 0x3C4D5E6F7081}
    prefixes = {"vehicle": "veh", "battery": "bat", "solar_inverter": "sol"}
    for kind in KINDS:
        for n in (0, 1, 7, 12345, 2**40 + 3):
            a = (n * 0x9E3779B97F4B + salts[kind]) % 2**48
            x = a ^ (a >> 24)
            assert device_id(kind, n) == f"{prefixes[kind]}-{x:012x}"


@pytest.mark.parametrize("bad", ["", "veh-", "veh-XYZ", "car-0123456789ab", "veh-0123456789AB", "veh-0123456789abc"])
def test_malformed_ids_rejected(bad: str) -> None:
    with pytest.raises(MalformedIdError, match="12 lowercase hex"):
        parse_device_id(bad)


def test_bad_kind_and_index() -> None:
    with pytest.raises(ValueError, match="use one of"):
        device_id("boat", 0)
    with pytest.raises(ValueError, match="index"):
        device_id("vehicle", -1)
