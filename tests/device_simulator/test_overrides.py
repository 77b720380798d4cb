"""Fault injection applies only inside [start, end) and expires by itself."""

from __future__ import annotations

import pytest
from device_simulator.ids import device_id
from device_simulator.model import base_state_minutes, device_spec
from device_simulator.overrides import Override, apply_overrides, validate_override
from device_simulator.timebase import MINUTES_PER_DAY
from hypothesis import given, settings
from hypothesis import strategies as st

from ._util import days, indices

VEH = device_id("vehicle", 5)
BAT = device_id("battery", 5)
SOL = device_id("solar_inverter", 5)
DAY = 9000 * MINUTES_PER_DAY


def ovr(dev: str, kind: str, start: float, end: float, **kw: object) -> Override:
    return Override(id=f"o-{kind}", device_id=dev, type=kind, start=start, end=end, **kw)  # type: ignore[arg-type]


@settings(deadline=None)  # the machine may be busy; no timing assertions here
@given(n=indices, day=days, length=st.floats(min_value=1.0, max_value=600.0),
       kind=st.sampled_from(["offline", "unplugged", "forced_state", "capability_lost"]))
def test_overrides_expire_by_themselves(n: int, day: int, length: float, kind: str) -> None:
    dev = device_id("vehicle", n)
    start = day * MINUTES_PER_DAY + 600.0
    o = ovr(dev, kind, start, start + length, power_kw=3.0 if kind == "forced_state" else None,
            capability="state_of_charge" if kind == "capability_lost" else None)
    validate_override(o)
    assert apply_overrides(dev, start - 1, [o]) == base_state_minutes(dev, start - 1)
    assert apply_overrides(dev, start + length, [o]) == base_state_minutes(dev, start + length)
    assert apply_overrides(dev, start + length + 30, [o]) == base_state_minutes(dev, start + length + 30)
    assert apply_overrides(dev, start + length / 2, [o]).overrides == (o.id,)


def test_offline_freezes_the_last_reading() -> None:
    o = ovr(VEH, "offline", DAY + 600, DAY + 700)
    s = apply_overrides(VEH, DAY + 650, [o])
    frozen = base_state_minutes(VEH, DAY + 600)
    assert s.online is False and s.soc_pct == frozen.soc_pct and s.status == frozen.status
    assert s.minute == DAY + 650


def test_unplugged_vehicle_stops_charging_at_night() -> None:
    t0 = DAY + 23 * 60  # 23:00, every car charges
    assert base_state_minutes(VEH, t0 + 30).status == "charging"
    o = ovr(VEH, "unplugged", t0, t0 + 120)
    s = apply_overrides(VEH, t0 + 30, [o])
    assert s.plugged_in is False and s.power_kw == 0.0
    assert s.soc_pct == pytest.approx(base_state_minutes(VEH, t0).soc_pct)


def test_forced_charging_follows_power_and_saturates() -> None:
    spec = device_spec(BAT)
    cap = spec.capacity_kwh or 1.0
    t0 = DAY + 18 * 60
    o = ovr(BAT, "forced_state", t0, t0 + 24 * 60, power_kw=spec.max_power_kw)
    soc0 = base_state_minutes(BAT, t0).soc_pct or 0.0
    s = apply_overrides(BAT, t0 + 10, [o])
    assert s.status == "charging"
    assert s.soc_pct == pytest.approx(soc0 + 100 * spec.max_power_kw * 10 / 60 / cap)
    full = apply_overrides(BAT, t0 + 23 * 60, [o])
    assert full.soc_pct == 100.0 and full.power_kw == 0.0 and full.status == "idle"


def test_capability_lost_nulls_fields() -> None:
    o = ovr(SOL, "capability_lost", DAY + 600, DAY + 660, capability="power")
    s = apply_overrides(SOL, DAY + 630, [o])
    assert s.power_kw is None and "power" not in s.capabilities and s.energy_out_today_kwh is not None


@pytest.mark.parametrize(
    ("o", "message"),
    [
        (ovr(VEH, "offline", DAY + 10, DAY + 10), "end must be after start"),
        (ovr(BAT, "unplugged", DAY, DAY + 10), "only applies to vehicles"),
        (ovr(SOL, "capability_lost", DAY, DAY + 10, capability="state_of_charge"), "capability must be one of"),
        (ovr(BAT, "forced_state", DAY, DAY + 10, power_kw=1000.0), "exceeds"),
        (ovr(SOL, "forced_state", DAY, DAY + 10, power_kw=-1.0), "cannot consume"),
    ],
)
def test_invalid_overrides_explain_the_fix(o: Override, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_override(o)
