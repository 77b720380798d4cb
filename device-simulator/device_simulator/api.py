"""HTTP API (FastAPI). Errors are RFC 9457-style problem documents so clients can show *what to fix*."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from device_simulator.ids import KINDS, MalformedIdError, check_kind, device_id
from device_simulator.model import DeviceState
from device_simulator.overrides import Override, OverrideType, apply_overrides
from device_simulator.registry import ConflictError, NotFoundError, Registry
from device_simulator.timebase import TimeRangeError, from_minutes, parse_step, parse_time, to_minutes

MAX_SERIES_POINTS: Final[int] = 10_000
MAX_CREATE: Final[int] = 1_000_000
IDS_IN_RESPONSE: Final[int] = 1_000
PROBLEM_BASE: Final[str] = "https://sandboxes.dev/problems/"


class ApiError(Exception):
    """An error to render as a problem document."""

    def __init__(self, status: int, slug: str, title: str, detail: str) -> None:
        """Keep the parts separately so the handler can build the JSON."""
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail


def _problem(status: int, slug: str, title: str, detail: str) -> JSONResponse:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


class CreateDevices(BaseModel):
    """Body of ``POST /v1/devices``."""

    kind: str = Field(description="vehicle, battery or solar_inverter")
    count: int = Field(1, ge=1, le=MAX_CREATE)
    name_prefix: str | None = Field(None, max_length=64)


class CreateOverride(BaseModel):
    """Body of ``POST /v1/devices/{id}/overrides``; ``start`` defaults to now, give ``end`` or ``duration_s``."""

    type: OverrideType
    start: str | None = None
    end: str | None = None
    duration_s: int | None = Field(None, gt=0)
    capability: str | None = None
    power_kw: float | None = None
    plugged_in: bool | None = None
    status: str | None = Field(None, max_length=32)


def _r(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def state_json(s: DeviceState, at: datetime | None = None) -> dict[str, Any]:
    """JSON view of a reading (``at`` keeps the caller's exact timestamp instead of the float-minute round trip)."""
    return {
        "id": s.device_id,
        "kind": s.kind,
        "at": (at or s.at).isoformat().replace("+00:00", "Z"),
        "online": s.online,
        "status": s.status,
        "power_kw": _r(s.power_kw),
        "soc_pct": _r(s.soc_pct),
        "plugged_in": s.plugged_in,
        "energy_in_today_kwh": _r(s.energy_in_today_kwh),
        "energy_out_today_kwh": _r(s.energy_out_today_kwh),
        "capacity_kwh": s.capacity_kwh,
        "max_power_kw": s.max_power_kw,
        "capabilities": list(s.capabilities),
        "overrides": list(s.overrides),
    }


def override_json(o: Override, now_minute: float) -> dict[str, Any]:
    """JSON view of an override, with whether it applies right now."""
    return {
        "id": o.id,
        "device_id": o.device_id,
        "type": o.type,
        "start": from_minutes(o.start).isoformat().replace("+00:00", "Z"),
        "end": from_minutes(o.end).isoformat().replace("+00:00", "Z"),
        "active": o.active(now_minute),
        "expired": now_minute >= o.end,
        "capability": o.capability,
        "power_kw": o.power_kw,
        "plugged_in": o.plugged_in,
        "status": o.status,
    }


def create_app(registry: Registry | None = None, clock: Callable[[], datetime] | None = None) -> FastAPI:
    """Build the app around a registry (a fresh one by default); ``clock`` pins "now" in tests."""
    reg = registry or Registry(clock)
    now: Callable[[], datetime] = clock or reg.clock
    app = FastAPI(title="Device simulator", version="1.0.0", description="Simulated devices driven by UTC time.")
    app.state.registry = reg

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _problem(exc.status, exc.slug, exc.title, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
            parts.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
        return _problem(422, "invalid-request", "Invalid request", "; ".join(parts))

    def time_arg(name: str, text: str | None, default: datetime) -> datetime:
        if text is None:
            return default
        try:
            return parse_time(text)
        except TimeRangeError as exc:
            raise ApiError(422, "time-out-of-range", "Time outside the simulated range", f"{name}: {exc}") from None
        except ValueError as exc:
            raise ApiError(422, "invalid-time", "Invalid time", f"{name}: {exc}") from None

    def now_minute() -> float:
        return to_minutes(now())

    def known(value: str) -> None:
        try:
            reg.describe(value)
        except MalformedIdError as exc:
            raise ApiError(400, "malformed-id", "Malformed device id", str(exc)) from None
        except NotFoundError as exc:
            raise ApiError(404, "device-not-found", "Device not found", str(exc)) from None

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        """Liveness plus registered counts (cheap: counters only)."""
        return {"status": "ok", "devices": {k: reg.count(k) for k in KINDS}}

    @app.post("/v1/devices", status_code=201)
    def create_devices(body: CreateDevices) -> dict[str, Any]:
        """Register the next ``count`` devices; ids are reproducible with ``device_id(kind, first_index + i)``."""
        try:
            batch = reg.create(body.kind, body.count, body.name_prefix)
        except ConflictError as exc:
            raise ApiError(409, "id-space-exhausted", "Cannot create devices", str(exc)) from None
        except ValueError as exc:
            raise ApiError(422, "unknown-kind", "Unknown device kind", str(exc)) from None
        shown = min(batch.count, IDS_IN_RESPONSE)
        return {
            "kind": batch.kind,
            "count": batch.count,
            "first_index": batch.first,
            "ids": [device_id(batch.kind, batch.first + i) for i in range(shown)],
            "ids_truncated": shown < batch.count,
        }

    @app.get("/v1/devices")
    def list_devices(
        kind: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        cursor: str | None = None,
        with_state: bool = False,
    ) -> dict[str, Any]:
        """Page through registered devices; ``with_state=true`` adds each device's current reading."""
        try:
            k = check_kind(kind) if kind is not None else None
        except ValueError as exc:
            raise ApiError(422, "unknown-kind", "Unknown device kind", str(exc)) from None
        try:
            items, next_cursor = reg.page(k, limit, cursor)
        except ValueError as exc:
            raise ApiError(400, "invalid-cursor", "Invalid cursor", str(exc)) from None
        minute = now_minute()
        out = []
        for info in items:
            row: dict[str, Any] = {
                "id": info.id,
                "kind": info.kind,
                "index": info.index,
                "name": info.name,
                "created_at": info.created_at.isoformat().replace("+00:00", "Z"),
            }
            if with_state:
                row["state"] = state_json(apply_overrides(info.id, minute, reg.overrides(info.id)))
            out.append(row)
        return {"items": out, "next_cursor": next_cursor}

    @app.get("/v1/devices/{device}")
    def get_device(device: str, at: str | None = None) -> dict[str, Any]:
        """Reading now, or at ``at`` (ISO 8601, any time in the supported range, past or future)."""
        known(device)
        when = time_arg("at", at, now())
        return state_json(apply_overrides(device, to_minutes(when), reg.overrides(device)), when)

    @app.get("/v1/devices/{device}/series")
    def series(device: str, start: str | None = None, end: str | None = None, step: str = "15m") -> dict[str, Any]:
        """Readings at ``start, start+step, ... <= end`` (defaults: the last 24 h every 15 min)."""
        known(device)
        t_end = time_arg("end", end, now())
        t_start = time_arg("start", start, t_end - timedelta(hours=24))
        try:
            delta = parse_step(step)
        except ValueError as exc:
            raise ApiError(422, "invalid-step", "Invalid step", str(exc)) from None
        if t_end < t_start:
            raise ApiError(422, "invalid-interval", "Invalid interval", "end must not be before start")
        points = int((t_end - t_start) / delta) + 1
        if points > MAX_SERIES_POINTS:
            raise ApiError(
                422, "too-many-points", "Series too long",
                f"{points} points requested, at most {MAX_SERIES_POINTS}; increase step or shorten start..end",
            )
        ovr = reg.overrides(device)
        rows = []
        for i in range(points):
            when = t_start + i * delta
            rows.append(state_json(apply_overrides(device, to_minutes(when), ovr), when))
        return {"id": device, "start": t_start.isoformat().replace("+00:00", "Z"),
                "end": t_end.isoformat().replace("+00:00", "Z"), "step_s": delta.total_seconds(), "points": rows}

    @app.post("/v1/devices/{device}/overrides", status_code=201)
    def add_override(device: str, body: CreateOverride) -> dict[str, Any]:
        """Inject a fault for ``[start, end)``; it expires by itself."""
        known(device)
        current = now()
        t_start = time_arg("start", body.start, current)
        if body.end is not None:
            t_end = time_arg("end", body.end, current)
        elif body.duration_s is not None:
            t_end = t_start + timedelta(seconds=body.duration_s)
        else:
            raise ApiError(422, "invalid-override", "Invalid override", "give 'end' (ISO 8601) or 'duration_s'")
        try:
            end_minute = to_minutes(t_end)
        except TimeRangeError as exc:
            raise ApiError(422, "time-out-of-range", "Time outside the simulated range", f"end: {exc}") from None
        candidate = Override(
            id="", device_id=device, type=body.type, start=to_minutes(t_start), end=end_minute,
            capability=body.capability, power_kw=body.power_kw, plugged_in=body.plugged_in, status=body.status,
        )
        try:
            stored = reg.add_override(candidate)
        except ConflictError as exc:
            raise ApiError(409, "too-many-overrides", "Too many overrides", str(exc)) from None
        except ValueError as exc:
            raise ApiError(422, "invalid-override", "Invalid override", str(exc)) from None
        return override_json(stored, now_minute())

    @app.get("/v1/devices/{device}/overrides")
    def list_overrides(device: str) -> dict[str, Any]:
        """All overrides, expired ones included (they still explain historical readings)."""
        known(device)
        minute = now_minute()
        return {"items": [override_json(o, minute) for o in reg.overrides(device)]}

    @app.delete("/v1/devices/{device}/overrides")
    def delete_overrides(device: str) -> dict[str, Any]:
        """Remove every override of the device."""
        known(device)
        return {"deleted": reg.delete_override(device, None)}

    @app.delete("/v1/devices/{device}/overrides/{override_id}")
    def delete_override(device: str, override_id: str) -> dict[str, Any]:
        """Remove one override."""
        known(device)
        try:
            return {"deleted": reg.delete_override(device, override_id)}
        except NotFoundError as exc:
            raise ApiError(404, "override-not-found", "Override not found", str(exc)) from None

    return app


