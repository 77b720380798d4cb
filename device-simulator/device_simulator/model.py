"""Behaviour model: a device's state is a pure function of ``(id, UTC time)``.

Why this shape: the simulator must serve any number of devices with no background work, so nothing is ever
"ticked". Instead each device has a daily *plan* — a short list of power segments whose integral is closed-form —
and a daily *anchor* (the state of charge at the start of the plan) that depends only on the id and the date.
Each plan is built so that integrating it lands exactly on the next day's anchor, which makes the state continuous
across midnight and across plan boundaries while still letting any instant be computed in O(1).

Power shapes are ``amp * (c0 + c1*cos(w*x) + s1*sin(w*x))`` over a segment (``x`` in 0..1), which covers constants,
sine bumps (smooth start/stop of a home battery) and raised-cosine ramps (solar production), and integrates exactly.

See README.md ("Behaviour model") for the windows per kind and the parameter ranges.
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Final

from device_simulator.ids import Kind, parse_device_id
from device_simulator.timebase import MINUTES_PER_DAY, from_minutes, to_minutes

DRIVE_MAX_KW: Final[float] = 50.0
"""Vehicles never draw more than this while driving; trips are stretched if needed (keeps SoC slopes bounded)."""

CAPABILITIES: Final[dict[Kind, tuple[str, ...]]] = {
    "vehicle": ("state_of_charge", "charging_status", "power", "energy_counters"),
    "battery": ("state_of_charge", "power", "energy_counters"),
    "solar_inverter": ("power", "energy_counters"),
}
"""What each kind reports; a ``capability_lost`` override removes one and nulls the matching fields."""

H: Final[float] = 60.0  # minutes per hour
_TAU: Final[float] = 2.0 * math.pi


# --------------------------------------------------------------------------------------------------- randomness
@lru_cache(maxsize=65536)
def _draws(key: str, salt: int) -> tuple[float, ...]:
    """16 uniform floats in [0, 1) from BLAKE2b of ``key|salt``: stable across processes and Python versions."""
    digest = hashlib.blake2b(f"{key}|{salt}".encode(), digest_size=64).digest()
    return tuple(v / 4294967296.0 for v in struct.unpack("<16I", digest))


# --------------------------------------------------------------------------------------------------- device specs
@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """Per-device constants drawn once from the id: the "variety" between devices of the same kind."""

    device_id: str
    kind: Kind
    capacity_kwh: float | None
    max_power_kw: float
    charge_power_kw: float  # vehicle: wallbox power; battery: inverter limit; solar: peak (kWp)
    reserve_pct: float  # battery: lowest SoC it discharges to
    habit: float  # vehicle: probability to plug in on arrival; battery: probability of night charging


@lru_cache(maxsize=65536)
def device_spec(device_id: str) -> DeviceSpec:
    """Return the constant parameters of a device (raises on malformed ids)."""
    kind, _ = parse_device_id(device_id)
    u = _draws(device_id, -1_000_000)
    if kind == "vehicle":
        cap = round(40.0 + 60.0 * u[0], 1)
        charge = (7.4, 11.0, 11.0, 7.4, 11.0)[int(u[1] * 5)]
        return DeviceSpec(device_id, kind, cap, max(charge, DRIVE_MAX_KW), charge, 0.0, 0.3 + 0.6 * u[2])
    if kind == "battery":
        cap = (5.0, 9.6, 10.0, 13.5, 15.0, 20.0)[int(u[0] * 6)]
        pmax = round(cap * (0.3 + 0.2 * u[1]), 2)
        return DeviceSpec(device_id, kind, cap, pmax, pmax, 5.0 + 15.0 * u[2], u[3])
    kwp = round(3.0 + 9.0 * u[0], 2)
    return DeviceSpec(device_id, kind, None, kwp, kwp, 0.0, 0.0)


# --------------------------------------------------------------------------------------------------- segments
@dataclass(frozen=True, slots=True)
class Segment:
    """Power over ``[start, end)`` (absolute minutes) as ``amp * (c0 + c1 cos(wx) + s1 sin(wx))``, x in [0, 1]."""

    start: float
    end: float
    amp: float
    c0: float
    c1: float
    s1: float
    omega: float
    status: str
    plugged: bool | None

    def power(self, t: float) -> float:
        """Instantaneous power (kW) at absolute minute ``t``."""
        if self.omega == 0.0:
            return self.amp * self.c0
        x = (t - self.start) / (self.end - self.start)
        return self.amp * (self.c0 + self.c1 * math.cos(self.omega * x) + self.s1 * math.sin(self.omega * x))

    def energy(self, t: float) -> float:
        """Exact energy (kWh) from the segment start to ``t``: the closed-form integral of :meth:`power`."""
        length = self.end - self.start
        x = (t - self.start) / length
        if self.omega == 0.0:
            integral = self.c0 * x
        else:
            w = self.omega
            integral = self.c0 * x + self.c1 * math.sin(w * x) / w + self.s1 * (1.0 - math.cos(w * x)) / w
        return self.amp * integral * length / H


def const(start: float, end: float, kw: float, status: str, plugged: bool | None) -> Segment:
    """Constant power (wallbox charging, driving, idle)."""
    return Segment(start, end, kw, 1.0, 0.0, 0.0, 0.0, status, plugged)


def bump(start: float, end: float, energy_kwh: float, status: str) -> Segment:
    """A half-sine power bump delivering ``energy_kwh`` (signed): power is 0 at both edges, so it joins smoothly."""
    peak = energy_kwh * math.pi / (2.0 * (end - start) / H)
    return Segment(start, end, peak, 0.0, 0.0, 1.0, math.pi, status, None)


def ramp_up(start: float, end: float, amp: float, status: str) -> Segment:
    """Raised-cosine rise 0 -> amp with zero slope at both edges (solar morning)."""
    return Segment(start, end, amp, 0.5, -0.5, 0.0, math.pi, status, None)


def ramp_down(start: float, end: float, amp: float, status: str) -> Segment:
    """Raised-cosine fall amp -> 0 with zero slope at both edges (solar afternoon)."""
    return Segment(start, end, amp, 0.5, 0.5, 0.0, math.pi, status, None)


def plateau(start: float, end: float, amp: float, dip: float, waves: int, status: str) -> Segment:
    """``amp`` with ``waves`` smooth dips of relative depth ``dip`` (passing clouds); equals amp at both edges."""
    return Segment(start, end, amp, 1.0 - dip / 2.0, dip / 2.0, 0.0, _TAU * waves, status, None)


@dataclass(frozen=True, slots=True)
class Plan:
    """Contiguous segments over ``[start, end)`` and the SoC at ``start`` (None for devices without storage).

    ``acc`` holds (soc, energy_in, energy_out) at each segment start, precomputed so a lookup is a short scan.
    """

    start: float
    end: float
    anchor_soc: float | None
    capacity_kwh: float | None
    segments: tuple[Segment, ...]
    acc: tuple[tuple[float, float, float], ...]
    total_in: float
    total_out: float

    def locate(self, t: float) -> int:
        """Index of the segment containing ``t`` (segments are few, so a linear scan beats bisect)."""
        for i, seg in enumerate(self.segments):
            if t < seg.end:
                return i
        return len(self.segments) - 1

    def cumulative(self, t: float) -> tuple[int, float, float, float]:
        """Segment index, SoC at ``t`` (0 if no storage), and energy in/out (kWh) since the plan start."""
        i = self.locate(t)
        seg = self.segments[i]
        soc, e_in, e_out = self.acc[i]
        e = seg.energy(t)
        if self.capacity_kwh:
            soc += 100.0 * e / self.capacity_kwh
        if seg.amp >= 0:
            e_in += e
        else:
            e_out -= e
        return i, soc, e_in, e_out


def make_plan(start: float, end: float, anchor: float | None, cap: float | None, segs: list[Segment]) -> Plan:
    """Freeze segments (dropping empty ones) and precompute the running SoC/energy at each segment start."""
    kept = tuple(s for s in segs if s.end > s.start)
    acc: list[tuple[float, float, float]] = []
    soc, e_in, e_out = (anchor or 0.0), 0.0, 0.0
    for s in kept:
        acc.append((soc, e_in, e_out))
        e = s.energy(s.end)
        if cap:
            soc += 100.0 * e / cap
        if s.amp >= 0:
            e_in += e
        else:
            e_out -= e
    return Plan(start, end, anchor, cap, kept, tuple(acc), e_in, e_out)


# --------------------------------------------------------------------------------------------------- vehicles
MORNING: Final[float] = 6 * H  # plans of storage devices start at 06:00 UTC so the morning anchor is exact


def _vehicle_morning(spec: DeviceSpec, day: int) -> tuple[float, float, float]:
    """(target SoC, ready-by minute of day, SoC at 06:00) for the morning of ``day``; depends on id+day only."""
    u = _draws(spec.device_id, day)
    cap = spec.capacity_kwh or 1.0
    target = 82.0 + 13.0 * u[0]
    if u[1] < 0.25:  # still charging after 06:00, but never below 80 % at 06:00
        max_late = (target - 80.5) / 100.0 * cap / spec.charge_power_kw * H
        ready = MORNING + min(60.0 * u[2], max_late)
    else:
        ready = 3 * H + 165.0 * u[2]
    soc6 = target - 100.0 * spec.charge_power_kw * max(0.0, ready - MORNING) / H / cap
    return target, ready, soc6


@lru_cache(maxsize=32768)
def vehicle_plan(device_id: str, day: int) -> Plan:
    """Plan from 06:00 of ``day`` to 06:00 of ``day + 1`` (see module docstring for the anchoring trick)."""
    spec = device_spec(device_id)
    cap = spec.capacity_kwh or 1.0
    p = spec.charge_power_kw
    u = _draws(device_id, day)
    d0 = day * MINUTES_PER_DAY
    start, end = d0 + MORNING, d0 + MORNING + MINUTES_PER_DAY
    target, ready, soc6 = _vehicle_morning(spec, day)
    target1, ready1_rel, soc6_next = _vehicle_morning(spec, day + 1)
    ready1 = d0 + MINUTES_PER_DAY + ready1_rel

    ready = d0 + ready
    depart = d0 + 450.0 + 67.5 * (u[3] + u[4])  # 07:30 .. 09:45, mostly around 08:37
    arrive = d0 + 990.0 + 120.0 * (u[5] + u[6])  # 16:30 .. 20:30, mostly around 18:30
    plug = arrive if u[7] < spec.habit else max(arrive, d0 + 1240.0 + 20.0 * u[8])  # latest 21:00
    # Off-peak smart charging: start 21:00..21:30 and spread the energy evenly until the goal, where the goal is
    # tomorrow's target at its ready-by time, or tomorrow's 06:00 anchor if charging runs past 06:00 (then the
    # next plan finishes at full wallbox power, exactly as the anchor assumes).
    charge_start = max(plug, d0 + 1260.0 + 30.0 * u[14])
    goal_time, goal_soc = (ready1, target1) if ready1 <= end else (end, soc6_next)
    # Use 12..50 % of the battery, but never more than the night can put back at wallbox power.
    reachable = 100.0 * p * (goal_time - charge_start) / H / cap * 0.98
    # Never home above the night's goal (a plugged-in car does not discharge) nor above this morning's SoC.
    soc_home = min(max(target - (12.0 + 38.0 * u[9]), goal_soc - reachable, 15.0), goal_soc, target)
    used = (target - soc_home) / 100.0 * cap
    legs = (0.4 * used, 0.2 * used, 0.4 * used)
    durs = [max(lo + span * ui, e / DRIVE_MAX_KW * H) for (lo, span, ui), e in
            zip(((20.0, 40.0, u[10]), (15.0, 30.0, u[11]), (20.0, 40.0, u[12])), legs, strict=True)]
    errand = d0 + 690.0 + 150.0 * u[13]  # 11:30 .. 14:00
    night_kw = (goal_soc - soc_home) / 100.0 * cap / (goal_time - charge_start) * H

    segs = [
        const(start, min(ready, depart), p, "charging", True),
        const(max(start, ready), depart, 0.0, "complete", True),
        const(depart, depart + durs[0], -legs[0] / durs[0] * H, "driving", False),
        const(depart + durs[0], errand, 0.0, "parked", False),
        const(errand, errand + durs[1], -legs[1] / durs[1] * H, "driving", False),
        const(errand + durs[1], arrive - durs[2], 0.0, "parked", False),
        const(arrive - durs[2], arrive, -legs[2] / durs[2] * H, "driving", False),
        const(arrive, plug, 0.0, "parked", False),
        const(plug, charge_start, 0.0, "scheduled", True),
        const(charge_start, goal_time, night_kw, "charging" if night_kw > 0 else "complete", True),
        const(goal_time, end, 0.0, "complete", True),
    ]
    return make_plan(start, end, soc6, cap, segs)


# --------------------------------------------------------------------------------------------------- home batteries
def _battery_evening(spec: DeviceSpec, day: int) -> tuple[float, float]:
    """(SoC after the evening peak of ``day``, SoC gained overnight after it); from id+day only."""
    u = _draws(spec.device_id, day)
    low = spec.reserve_pct + 5.0 + 15.0 * u[0]
    gain = 5.0 + 20.0 * u[2] if (u[1] < spec.habit and u[3] < 0.85) else 0.0
    return low, gain


@lru_cache(maxsize=32768)
def battery_plan(device_id: str, day: int) -> Plan:
    """06:00(day) .. 06:00(day+1): morning discharge, solar charge, evening peak discharge, night idle/slow charge."""
    spec = device_spec(device_id)
    cap = spec.capacity_kwh or 1.0
    u = _draws(device_id, day)
    d0 = day * MINUTES_PER_DAY
    start, end = d0 + MORNING, d0 + MORNING + MINUTES_PER_DAY
    low_prev, gain_prev = _battery_evening(spec, day - 1)
    anchor = low_prev + gain_prev
    low, gain = _battery_evening(spec, day)
    morning_use = min(5.0 + 10.0 * u[4], anchor - spec.reserve_pct - 1.0)
    high = min(100.0, 80.0 + 21.0 * u[5])
    kwh = cap / 100.0
    segs = [
        bump(start, d0 + 9 * H, -morning_use * kwh, "discharging"),
        bump(d0 + 9 * H, d0 + 15 * H, (high - anchor + morning_use) * kwh, "charging"),
        bump(d0 + 15 * H, d0 + 21 * H, -(high - low) * kwh, "discharging"),
    ]
    if gain > 0:
        segs += [
            const(d0 + 21 * H, d0 + 23 * H, 0.0, "idle", None),
            bump(d0 + 23 * H, d0 + 29 * H, gain * kwh, "charging"),
            const(d0 + 29 * H, end, 0.0, "idle", None),
        ]
    else:
        segs.append(const(d0 + 21 * H, end, 0.0, "idle", None))
    return make_plan(start, end, anchor, cap, segs)


# --------------------------------------------------------------------------------------------------- solar
@lru_cache(maxsize=32768)
def solar_plan(device_id: str, day: int) -> Plan:
    """Calendar day: nothing 18-06, raised-cosine ramp 06-09, cloudy-ish plateau 09-15, decline 15-18."""
    spec = device_spec(device_id)
    u = _draws(device_id, day)
    d0 = day * MINUTES_PER_DAY
    peak = spec.charge_power_kw * (1.0 - 0.65 * u[0] * u[0])  # mostly sunny days, some overcast
    dip, waves = 0.2 * u[1], 1 + int(3 * u[2])
    segs = [
        const(d0, d0 + 6 * H, 0.0, "idle", None),
        ramp_up(d0 + 6 * H, d0 + 9 * H, peak, "producing"),
        plateau(d0 + 9 * H, d0 + 15 * H, peak, dip, waves, "producing"),
        ramp_down(d0 + 15 * H, d0 + 18 * H, peak, "producing"),
        const(d0 + 18 * H, d0 + MINUTES_PER_DAY, 0.0, "idle", None),
    ]
    return make_plan(d0, d0 + MINUTES_PER_DAY, None, None, segs)


# --------------------------------------------------------------------------------------------------- state
@dataclass(frozen=True, slots=True)
class DeviceState:
    """A reading. Power: + charging / - discharging or driving; solar reports production as + power.

    Energy counters reset at 00:00 UTC: ``energy_in`` is energy charged, ``energy_out`` energy discharged/driven
    (vehicles, batteries) or produced (solar).
    """

    device_id: str
    kind: Kind
    minute: float
    online: bool
    status: str
    power_kw: float | None
    soc_pct: float | None
    plugged_in: bool | None
    energy_in_today_kwh: float | None
    energy_out_today_kwh: float | None
    capacity_kwh: float | None
    max_power_kw: float
    capabilities: tuple[str, ...]
    overrides: tuple[str, ...] = ()

    @property
    def at(self) -> datetime:
        """The reading time as an aware UTC datetime."""
        return from_minutes(self.minute)


def plan_for(device_id: str, kind: Kind, minute: float) -> Plan:
    """The plan containing ``minute``."""
    if kind == "solar_inverter":
        return solar_plan(device_id, int(minute // MINUTES_PER_DAY))
    day = int((minute - MORNING) // MINUTES_PER_DAY)
    return vehicle_plan(device_id, day) if kind == "vehicle" else battery_plan(device_id, day)


def energy_today(device_id: str, kind: Kind, minute: float) -> tuple[float, float]:
    """Energy in/out (kWh) since 00:00 UTC, summed over the (at most two) plans the day overlaps."""
    midnight = (minute // MINUTES_PER_DAY) * MINUTES_PER_DAY
    plan = plan_for(device_id, kind, minute)
    _, _, e_in, e_out = plan.cumulative(minute)
    if plan.start < midnight:
        _, _, m_in, m_out = plan.cumulative(midnight)
        return e_in - m_in, e_out - m_out
    if plan.start > midnight:  # 06:00 plan: add the tail of yesterday's plan from midnight
        prev = plan_for(device_id, kind, plan.start - 1e-6)
        _, _, m_in, m_out = prev.cumulative(midnight)
        return e_in + prev.total_in - m_in, e_out + prev.total_out - m_out
    return e_in, e_out


def base_state_minutes(device_id: str, minute: float) -> DeviceState:
    """State at model minute ``minute`` with no overrides applied."""
    spec = device_spec(device_id)
    kind = spec.kind
    plan = plan_for(device_id, kind, minute)
    i, soc, _, _ = plan.cumulative(minute)
    seg = plan.segments[i]
    power = seg.power(minute)
    status = seg.status
    if kind == "battery":
        status = "charging" if power > 1e-9 else "discharging" if power < -1e-9 else "idle"
    elif kind == "solar_inverter":
        status = "producing" if power > 1e-9 else "idle"
    e_in, e_out = energy_today(device_id, kind, minute)
    return DeviceState(
        device_id=device_id,
        kind=kind,
        minute=minute,
        online=True,
        status=status,
        power_kw=power,
        soc_pct=None if kind == "solar_inverter" else min(100.0, max(0.0, soc)),
        plugged_in=seg.plugged if kind == "vehicle" else None,
        energy_in_today_kwh=None if kind == "solar_inverter" else e_in,
        energy_out_today_kwh=e_in if kind == "solar_inverter" else e_out,
        capacity_kwh=spec.capacity_kwh,
        max_power_kw=spec.max_power_kw,
        capabilities=CAPABILITIES[kind],
    )


def state_at(device_id: str, at: datetime) -> DeviceState:
    """State of ``device_id`` at ``at`` without overrides (raises on malformed id or out-of-range time)."""
    return base_state_minutes(device_id, to_minutes(at))
