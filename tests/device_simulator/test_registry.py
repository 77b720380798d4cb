"""The registry stores batches, not devices: a million registrations must be cheap."""

from __future__ import annotations

import tracemalloc

import pytest
from device_simulator.ids import device_id
from device_simulator.registry import NotFoundError, Registry, decode_cursor, encode_cursor


def test_million_devices_cost_almost_nothing() -> None:
    reg = Registry()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    reg.create("vehicle", 1_000_000)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert grown < 64_000  # bytes, for a million devices
    last = reg.describe(device_id("vehicle", 999_999))
    assert last.index == 999_999
    with pytest.raises(NotFoundError, match="POST /v1/devices"):
        reg.describe(device_id("vehicle", 1_000_000))


def test_paging_visits_every_device_once_across_kinds_and_batches() -> None:
    reg = Registry()
    reg.create("vehicle", 3, "car-")
    reg.create("vehicle", 2)
    reg.create("solar_inverter", 4, "pv-")
    seen, cursor = [], None
    while True:
        items, cursor = reg.page(None, 2, cursor)
        seen += items
        if cursor is None:
            break
    assert [i.id for i in seen] == [device_id("vehicle", n) for n in range(5)] + [
        device_id("solar_inverter", n) for n in range(4)]
    assert [i.name for i in seen][:4] == ["car-1", "car-2", "car-3", device_id("vehicle", 3)]
    assert reg.page("battery", 10, None) == ([], None)


def test_cursor_round_trip_and_rejection() -> None:
    assert decode_cursor(encode_cursor("battery", 42)) == ("battery", 42)
    with pytest.raises(ValueError, match="next_cursor"):
        decode_cursor("!!!")
