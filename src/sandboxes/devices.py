"""Typed client for the device simulator HTTP API and a small text chart, for ``sandboxctl devices``.

Deliberately standalone (only httpx + the standard library): the simulator ships as its own image and the CLI
talks to it over HTTP, so neither side imports the other. Server errors arrive as RFC 9457 problem documents and
are raised as :class:`DevicesError` carrying the server's "what to fix" detail.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal, cast

import httpx

DeviceKind = Literal["vehicle", "battery", "solar_inverter"]
OverrideType = Literal["offline", "unplugged", "capability_lost", "forced_state"]
Metric = Literal["auto", "soc", "power"]


class DevicesError(RuntimeError):
    """The simulator refused a request; ``detail`` says what to change."""

    def __init__(self, status: int, title: str, detail: str, type_: str = "about:blank") -> None:
        """Keep the problem-document parts so the CLI can print them separately."""
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(value: datetime) -> str:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class DeviceState:
    """One reading. Power: + charging/production, - discharging/driving. Counters reset at 00:00 UTC."""

    id: str
    kind: str
    at: datetime
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
    overrides: tuple[str, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeviceState:
        """Parse the API's state object."""
        return cls(
            id=str(data["id"]),
            kind=str(data["kind"]),
            at=_time(str(data["at"])),
            online=bool(data["online"]),
            status=str(data["status"]),
            power_kw=_opt_float(data.get("power_kw")),
            soc_pct=_opt_float(data.get("soc_pct")),
            plugged_in=cast("bool | None", data.get("plugged_in")),
            energy_in_today_kwh=_opt_float(data.get("energy_in_today_kwh")),
            energy_out_today_kwh=_opt_float(data.get("energy_out_today_kwh")),
            capacity_kwh=_opt_float(data.get("capacity_kwh")),
            max_power_kw=float(data["max_power_kw"]),
            capabilities=tuple(str(c) for c in data.get("capabilities", ())),
            overrides=tuple(str(o) for o in data.get("overrides", ())),
        )


@dataclass(frozen=True, slots=True)
class CreatedDevices:
    """Result of a create call; ids beyond the first 1000 follow from ``first_index`` (see simulator README)."""

    kind: str
    count: int
    first_index: int
    ids: tuple[str, ...]
    ids_truncated: bool


@dataclass(frozen=True, slots=True)
class DeviceSummary:
    """A registry entry, with its current state when the listing asked for it."""

    id: str
    kind: str
    index: int
    name: str
    created_at: datetime
    state: DeviceState | None


@dataclass(frozen=True, slots=True)
class DevicePage:
    """One page of devices; pass ``next_cursor`` back to get the next (None at the end)."""

    items: tuple[DeviceSummary, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Series:
    """Readings from ``start`` to ``end`` every ``step_s`` seconds."""

    id: str
    start: datetime
    end: datetime
    step_s: float
    points: tuple[DeviceState, ...]


@dataclass(frozen=True, slots=True)
class OverrideInfo:
    """A fault-injection window; ``active``/``expired`` are relative to the server's clock."""

    id: str
    device_id: str
    type: str
    start: datetime
    end: datetime
    active: bool
    expired: bool
    capability: str | None
    power_kw: float | None
    plugged_in: bool | None
    status: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OverrideInfo:
        """Parse the API's override object."""
        return cls(
            id=str(data["id"]),
            device_id=str(data["device_id"]),
            type=str(data["type"]),
            start=_time(str(data["start"])),
            end=_time(str(data["end"])),
            active=bool(data["active"]),
            expired=bool(data["expired"]),
            capability=cast("str | None", data.get("capability")),
            power_kw=_opt_float(data.get("power_kw")),
            plugged_in=cast("bool | None", data.get("plugged_in")),
            status=cast("str | None", data.get("status")),
        )


class DevicesClient:
    """Synchronous client mirroring the simulator API one method per endpoint.

    ``client`` lets callers (and tests) supply a configured ``httpx.Client`` — e.g. FastAPI's TestClient.
    """

    def __init__(self, base_url: str, *, timeout: float = 10.0, client: httpx.Client | None = None) -> None:
        """Remember the base URL; an own ``httpx.Client`` is created unless one is passed."""
        self.base_url = base_url.rstrip("/")
        self._owned = client is None
        self._http = client if client is not None else httpx.Client(timeout=timeout)

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owned:
            self._http.close()

    def __enter__(self) -> DevicesClient:
        """Use as a context manager so connections are released."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """See :meth:`close`."""
        self.close()

    def _request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                 json: dict[str, Any] | None = None) -> Any:
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            resp = self._http.request(method, self.base_url + path, params=clean, json=json)
        except httpx.TransportError as exc:
            raise DevicesError(503, "Simulator unreachable", f"{self.base_url}: {exc}") from exc
        if resp.status_code >= 400:
            try:
                body = resp.json()
            except ValueError:
                body = {}
            if not isinstance(body, dict):
                body = {}
            raise DevicesError(
                int(body.get("status", resp.status_code)),
                str(body.get("title", resp.reason_phrase)),
                str(body.get("detail", resp.text[:200])),
                str(body.get("type", "about:blank")),
            )
        return resp.json()

    def health(self) -> dict[str, Any]:
        """``GET /healthz``: status and registered device counts."""
        return cast("dict[str, Any]", self._request("GET", "/healthz"))

    def create(self, kind: DeviceKind, count: int = 1, name_prefix: str | None = None) -> CreatedDevices:
        """``POST /v1/devices``."""
        body: dict[str, Any] = {"kind": kind, "count": count}
        if name_prefix is not None:
            body["name_prefix"] = name_prefix
        data = self._request("POST", "/v1/devices", json=body)
        return CreatedDevices(str(data["kind"]), int(data["count"]), int(data["first_index"]),
                              tuple(str(i) for i in data["ids"]), bool(data["ids_truncated"]))

    def list(self, kind: DeviceKind | None = None, limit: int = 100, cursor: str | None = None,
             with_state: bool = False) -> DevicePage:
        """``GET /v1/devices`` (one page)."""
        params: dict[str, Any] = {"kind": kind, "limit": limit, "cursor": cursor}
        if with_state:
            params["with_state"] = "true"
        data = self._request("GET", "/v1/devices", params=params)
        items = tuple(
            DeviceSummary(
                id=str(row["id"]), kind=str(row["kind"]), index=int(row["index"]), name=str(row["name"]),
                created_at=_time(str(row["created_at"])),
                state=DeviceState.from_json(row["state"]) if row.get("state") else None,
            )
            for row in data["items"]
        )
        return DevicePage(items, cast("str | None", data.get("next_cursor")))

    def iter_all(self, kind: DeviceKind | None = None, page_size: int = 1000) -> Iterator[DeviceSummary]:
        """Every registered device, following cursors."""
        cursor: str | None = None
        while True:
            page = self.list(kind, page_size, cursor)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def get(self, device_id: str, at: datetime | None = None) -> DeviceState:
        """``GET /v1/devices/{id}`` now, or at ``at``."""
        params = {"at": _iso(at)} if at is not None else None
        return DeviceState.from_json(self._request("GET", f"/v1/devices/{device_id}", params=params))

    def series(self, device_id: str, start: datetime | None = None, end: datetime | None = None,
               step: str = "15m") -> Series:
        """``GET /v1/devices/{id}/series`` (server defaults: last 24 h)."""
        params = {"start": _iso(start) if start else None, "end": _iso(end) if end else None, "step": step}
        data = self._request("GET", f"/v1/devices/{device_id}/series", params=params)
        return Series(str(data["id"]), _time(str(data["start"])), _time(str(data["end"])), float(data["step_s"]),
                      tuple(DeviceState.from_json(p) for p in data["points"]))

    def add_override(self, device_id: str, type_: OverrideType, *, start: datetime | None = None,
                     end: datetime | None = None, duration_s: int | None = None, capability: str | None = None,
                     power_kw: float | None = None, plugged_in: bool | None = None,
                     status: str | None = None) -> OverrideInfo:
        """``POST /v1/devices/{id}/overrides``: a fault window that expires by itself."""
        body: dict[str, Any] = {
            "type": type_, "start": _iso(start) if start else None, "end": _iso(end) if end else None,
            "duration_s": duration_s, "capability": capability, "power_kw": power_kw, "plugged_in": plugged_in,
            "status": status,
        }
        data = self._request("POST", f"/v1/devices/{device_id}/overrides",
                             json={k: v for k, v in body.items() if v is not None})
        return OverrideInfo.from_json(data)

    def overrides(self, device_id: str) -> tuple[OverrideInfo, ...]:
        """``GET /v1/devices/{id}/overrides`` (expired ones included)."""
        data = self._request("GET", f"/v1/devices/{device_id}/overrides")
        return tuple(OverrideInfo.from_json(o) for o in data["items"])

    def delete_override(self, device_id: str, override_id: str | None = None) -> int:
        """``DELETE`` one override, or all of them when ``override_id`` is None; returns how many."""
        path = f"/v1/devices/{device_id}/overrides" + (f"/{override_id}" if override_id else "")
        return int(self._request("DELETE", path)["deleted"])


_EIGHTHS = " ▁▂▃▄▅▆▇█"


def render_chart(series: Series | Sequence[DeviceState], *, width: int = 48, height: int = 8,
                 metric: Metric = "auto") -> str:
    """A small block-character chart of a device's series (typically the last 24 h).

    ``auto`` charts state of charge when the device reports it, otherwise power (bars up for charging or
    production, down for discharging/driving, from a ``─`` zero line). Points are averaged into
    ``width`` columns; a marker row shows when a vehicle was plugged in (``▀``) and when it was offline (``x``).
    """
    points = list(series.points if isinstance(series, Series) else series)
    if not points:
        return "(no data)"
    if metric == "auto":
        metric = "soc" if any(p.soc_pct is not None for p in points) else "power"
    values = [p.soc_pct if metric == "soc" else p.power_kw for p in points]
    unit = "%" if metric == "soc" else "kW"
    cols = max(1, min(width, len(points)))
    buckets: list[list[int]] = [[] for _ in range(cols)]
    for i in range(len(points)):
        buckets[i * cols // len(points)].append(i)
    col_vals: list[float | None] = []
    for b in buckets:
        known = [v for v in (values[i] for i in b) if v is not None]
        col_vals.append(sum(known) / len(known) if known else None)
    present = [v for v in col_vals if v is not None]
    if not present:
        return f"{points[0].id}: no {metric} readings"
    lo, hi = (0.0, 100.0) if metric == "soc" else (min(0.0, *present), max(0.0, *present))
    span = (hi - lo) or 1.0
    levels = [None if v is None else round((v - lo) / span * height * 8) for v in col_vals]
    label_w = max(len(f"{hi:.1f}"), len(f"{lo:.1f}"))
    lines = [f"{points[0].id} ({points[0].kind}) {metric} [{unit}], {points[0].at:%Y-%m-%d %H:%M}Z"
             f" .. {points[-1].at:%Y-%m-%d %H:%M}Z"]
    zero = (0.0 - lo) / span * height * 8  # in eighths; power bars grow up or down from this line
    for row in range(height - 1, -1, -1):
        label = f"{hi:.1f}" if row == height - 1 else f"{lo:.1f}" if row == 0 else ""
        cells = []
        for level in levels:
            if level is None:
                cells.append("?" if row == 0 else " ")
            elif metric == "soc":
                cells.append(_EIGHTHS[max(0, min(8, level - row * 8))])
            else:
                centre = row * 8 + 4
                filled = min(level, zero) <= centre <= max(level, zero)
                on_axis = row * 8 <= zero < row * 8 + 8
                cells.append("█" if filled else "─" if on_axis else " ")
        lines.append(f"{label:>{label_w}} │{''.join(cells)}")
    markers = []
    for b in buckets:
        if any(not points[i].online for i in b):
            markers.append("x")
        elif any(points[i].plugged_in for i in b):
            markers.append("▀")
        else:
            markers.append(" ")
    if any(m != " " for m in markers):
        lines.append(f"{'':>{label_w}} │{''.join(markers)}  ▀ plugged in, x offline")
    first, last = f"{points[0].at:%H:%M}", f"{points[-1].at:%H:%M}"
    lines.append(f"{'':>{label_w}} └{first}{last:>{max(len(last), cols - len(first))}}")
    return "\n".join(lines)
