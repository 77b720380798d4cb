"""sandboxes.devices against the real simulator app (in-process via TestClient, which is an httpx.Client)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from device_simulator.api import create_app
from device_simulator.ids import device_id
from fastapi.testclient import TestClient

from sandboxes.devices import DevicesClient, DevicesError, DeviceState, render_chart

NOW = datetime(2031, 5, 20, 12, 0, tzinfo=UTC)


@pytest.fixture()
def client() -> Iterator[DevicesClient]:
    with TestClient(create_app(clock=lambda: NOW)) as http, DevicesClient("http://testserver", client=http) as c:
        yield c


def test_module_imports_nothing_else_from_sandboxes() -> None:
    tree = ast.parse(Path(__file__).resolve().parents[2].joinpath("src/sandboxes/devices.py").read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in modules if m and (m.startswith("sandboxes") or m.startswith("device_simulator"))}


def test_create_list_get(client: DevicesClient) -> None:
    created = client.create("vehicle", 3, name_prefix="car-")
    assert created.ids == tuple(device_id("vehicle", n) for n in range(3)) and not created.ids_truncated
    client.create("battery", 2)
    page = client.list(limit=2, with_state=True)
    assert [d.name for d in page.items] == ["car-1", "car-2"] and page.items[0].state is not None
    assert [d.id for d in client.iter_all(page_size=2)][-1] == device_id("battery", 1)
    assert [d.id for d in client.iter_all("battery")] == [device_id("battery", 0), device_id("battery", 1)]
    state = client.get(created.ids[0], at=datetime(2031, 5, 20, 23, 0, tzinfo=UTC))
    assert isinstance(state, DeviceState) and state.plugged_in is True and state.at.hour == 23
    assert client.health()["devices"]["vehicle"] == 3


def test_series_and_chart(client: DevicesClient) -> None:
    dev = client.create("vehicle").ids[0]
    series = client.series(dev, step="1h")
    assert len(series.points) == 25 and series.end == NOW and series.start == NOW - timedelta(hours=24)
    chart = render_chart(series)
    lines = chart.splitlines()
    assert dev in lines[0] and "soc" in lines[0]
    assert "100.0" in lines[1] and "plugged in" in chart and len(lines) == 1 + 8 + 2
    solar = client.create("solar_inverter").ids[0]
    power_chart = render_chart(client.series(solar), width=24, height=4)
    assert "power [kW]" in power_chart and "█" in power_chart
    assert render_chart([]) == "(no data)"


def test_overrides_round_trip(client: DevicesClient) -> None:
    dev = client.create("vehicle").ids[0]
    o = client.add_override(dev, "offline", duration_s=600)
    assert o.active and not o.expired and o.end - o.start == timedelta(minutes=10)
    assert client.get(dev).online is False
    assert "x offline" in render_chart(client.series(dev, step="5m"))
    assert [x.id for x in client.overrides(dev)] == [o.id]
    assert client.delete_override(dev, o.id) == 1
    client.add_override(dev, "forced_state", power_kw=3.0, end=NOW + timedelta(hours=1))
    assert client.get(dev).power_kw == 3.0
    assert client.delete_override(dev) == 1


def test_problem_details_become_devices_error(client: DevicesClient) -> None:
    with pytest.raises(DevicesError) as err:
        client.get("nope")
    assert err.value.status == 400 and "12 lowercase hex" in err.value.detail
    dev = client.create("battery").ids[0]
    with pytest.raises(DevicesError, match="after start"):
        client.add_override(dev, "offline", start=NOW, end=NOW - timedelta(hours=1))
    with pytest.raises(DevicesError, match="supported range"):
        client.get(dev, at=datetime(2150, 1, 1, tzinfo=UTC))


def test_unreachable_server_is_a_clear_error() -> None:
    with DevicesClient("http://127.0.0.1:9", timeout=0.5) as c, pytest.raises(DevicesError, match="unreachable"):
        c.health()
