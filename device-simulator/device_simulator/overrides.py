"""Fault injection: time-boxed overrides layered over the pure behaviour model.

An override has ``[start, end)``; outside it the device behaves exactly as the model says, so overrides expire by
themselves with no cleanup job. Continuity is *not* guaranteed across override edges: when a forced state ends,
the device snaps back to its planned trajectory (as if the fault had only affected what it reported/did briefly).

Precedence when several are active: the most recent ``forced_state``/``unplugged`` drives the physics, then
``capability_lost`` nulls fields, then ``offline`` freezes the whole reading at the moment it went offline.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final, Literal, get_args

from device_simulator.model import CAPABILITIES, DeviceState, base_state_minutes, device_spec
from device_simulator.timebase import MINUTES_PER_DAY

OverrideType = Literal["offline", "unplugged", "capability_lost", "forced_state"]
OVERRIDE_TYPES: Final[tuple[OverrideType, ...]] = get_args(OverrideType)

FIELDS_OF_CAPABILITY: Final[dict[str, tuple[str, ...]]] = {
    "state_of_charge": ("soc_pct",),
    "charging_status": ("plugged_in",),
    "power": ("power_kw",),
    "energy_counters": ("energy_in_today_kwh", "energy_out_today_kwh"),
}


@dataclass(frozen=True, slots=True)
class Override:
    """One fault window. Only the fields relevant to ``type`` are set."""

    id: str
    device_id: str
    type: OverrideType
    start: float  # model minutes, inclusive
    end: float  # model minutes, exclusive
    capability: str | None = None
    power_kw: float | None = None
    plugged_in: bool | None = None
    status: str | None = None

    def active(self, minute: float) -> bool:
        """True while the override applies; after ``end`` it is inert (expiry needs no bookkeeping)."""
        return self.start <= minute < self.end


def validate_override(o: Override) -> None:
    """Raise ``ValueError`` with a fix-it message if ``o`` cannot apply to its device."""
    spec = device_spec(o.device_id)
    if o.end <= o.start:
        raise ValueError("override end must be after start; send an 'end' later than 'start'")
    if o.type == "unplugged" and spec.kind != "vehicle":
        raise ValueError(f"'unplugged' only applies to vehicles, not to {spec.kind}; use 'forced_state' instead")
    if o.type == "capability_lost" and o.capability not in CAPABILITIES[spec.kind]:
        raise ValueError(
            f"capability must be one of {', '.join(CAPABILITIES[spec.kind])} for a {spec.kind}, got {o.capability!r}"
        )
    if o.type == "forced_state":
        p = o.power_kw or 0.0
        if abs(p) > spec.max_power_kw:
            raise ValueError(f"power_kw {p} exceeds this device's max_power_kw {spec.max_power_kw}")
        if spec.kind == "solar_inverter" and p < 0:
            raise ValueError("a solar inverter cannot consume power; use power_kw >= 0")
        if o.plugged_in is not None and spec.kind != "vehicle":
            raise ValueError("plugged_in only applies to vehicles")


def _forced(base: DeviceState, o: Override, minute: float) -> DeviceState:
    """Constant power from the state at ``o.start``; SoC saturates at 0/100 % and power then drops to 0."""
    start_state = base_state_minutes(o.device_id, o.start)
    vehicle = base.kind == "vehicle"
    plugged: bool | None
    if o.type == "unplugged":
        power, plugged, status = 0.0, False, "parked"
    else:
        power = o.power_kw or 0.0
        plugged = (o.plugged_in if o.plugged_in is not None else power > 0) if vehicle else None
        if o.status is not None:
            status = o.status
        elif power > 0:
            status = "charging"
        elif power < 0:
            status = "driving" if vehicle else "discharging"
        else:
            status = ("complete" if plugged else "parked") if vehicle else "idle"
        if base.kind == "solar_inverter" and o.status is None:
            status = "producing" if power > 0 else "idle"
    flowing = minute - o.start  # minutes during which the forced power actually flows
    soc = start_state.soc_pct
    reported = power
    if soc is not None and base.capacity_kwh and power != 0.0:
        bound = 100.0 if power > 0 else 0.0
        to_bound = (bound - soc) / 100.0 * base.capacity_kwh / power * 60.0  # minutes until full/empty
        if flowing >= to_bound:
            flowing, soc, reported = to_bound, bound, 0.0
            status = o.status or ("complete" if vehicle and plugged else "idle")
        else:
            soc += 100.0 * power * flowing / 60.0 / base.capacity_kwh
    midnight = (minute // MINUTES_PER_DAY) * MINUTES_PER_DAY
    since = max(o.start, midnight)  # counters reset at 00:00 UTC, also during an override
    kwh = power * max(0.0, o.start + flowing - since) / 60.0
    same_day = since == o.start
    e_in = (start_state.energy_in_today_kwh or 0.0) if same_day else 0.0
    e_out = (start_state.energy_out_today_kwh or 0.0) if same_day else 0.0
    if base.kind == "solar_inverter":
        e_out, e_in_opt = e_out + kwh, None
    else:
        e_in_opt, e_out = e_in + max(kwh, 0.0), e_out + max(-kwh, 0.0)
    return replace(base, status=status, power_kw=reported, soc_pct=soc, plugged_in=plugged,
                   energy_in_today_kwh=e_in_opt, energy_out_today_kwh=e_out)


def apply_overrides(device_id: str, minute: float, overrides: list[Override] | tuple[Override, ...]) -> DeviceState:
    """The reading at ``minute`` with every override active at that minute applied (see module docstring)."""
    active = [o for o in overrides if o.active(minute)]
    if not active:
        return base_state_minutes(device_id, minute)
    offline = [o for o in active if o.type == "offline"]
    if offline:
        went = offline[-1]
        others = [o for o in overrides if o is not went]
        frozen = apply_overrides(device_id, went.start, [o for o in others if o.type != "offline"])
        return replace(frozen, minute=minute, online=False, overrides=tuple(o.id for o in active))
    state = base_state_minutes(device_id, minute)
    physics = [o for o in active if o.type in ("forced_state", "unplugged")]
    if physics:
        state = _forced(state, physics[-1], minute)
    lost = {o.capability for o in active if o.type == "capability_lost"}
    if lost:
        nulls: dict[str, Any] = {f: None for c in lost if c for f in FIELDS_OF_CAPABILITY.get(c, ())}
        state = replace(state, capabilities=tuple(c for c in state.capabilities if c not in lost), **nulls)
    return replace(state, overrides=tuple(o.id for o in active))
