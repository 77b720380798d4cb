"""HTTP contract through FastAPI's TestClient (in-process), with a pinned clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from device_simulator.api import MAX_SERIES_POINTS, create_app
from device_simulator.ids import device_id
from device_simulator.model import state_at
from fastapi.testclient import TestClient

NOW = datetime(2031, 5, 20, 12, 0, tzinfo=UTC)


@pytest.fixture()
def client() -> Iterator[TestClient]:
    with TestClient(create_app(clock=lambda: NOW)) as c:
        yield c


def make(client: TestClient, kind: str = "vehicle", count: int = 3, **extra: object) -> list[str]:
    r = client.post("/v1/devices", json={"kind": kind, "count": count, **extra})
    assert r.status_code == 201, r.text
    ids: list[str] = r.json()["ids"]
    return ids


def assert_problem(r: object, status: int, fragment: str) -> None:
    resp = r  # httpx.Response
    assert resp.status_code == status, resp.text  # type: ignore[attr-defined]
    assert resp.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body = resp.json()  # type: ignore[attr-defined]
    assert set(body) >= {"type", "title", "status", "detail"} and body["status"] == status
    assert fragment in body["detail"], body


def test_health(client: TestClient) -> None:
    make(client, "battery", 2)
    assert client.get("/healthz").json() == {"status": "ok", "devices": {"vehicle": 0, "battery": 2,
                                                                         "solar_inverter": 0}}


def test_create_returns_reproducible_ids(client: TestClient) -> None:
    assert make(client, "vehicle", 2) == [device_id("vehicle", 0), device_id("vehicle", 1)]
    r = client.post("/v1/devices", json={"kind": "vehicle", "count": 5000, "name_prefix": "fleet-"})
    body = r.json()
    assert body["first_index"] == 2 and body["ids_truncated"] is True and len(body["ids"]) == 1000
    assert body["ids"][0] == device_id("vehicle", 2)


def test_state_now_and_at(client: TestClient) -> None:
    dev = make(client, "vehicle", 1)[0]
    now = client.get(f"/v1/devices/{dev}").json()
    expected = state_at(dev, NOW)
    assert now["at"] == "2031-05-20T12:00:00Z" and now["soc_pct"] == pytest.approx(expected.soc_pct)
    assert now["plugged_in"] is expected.plugged_in and now["status"] == expected.status
    later = client.get(f"/v1/devices/{dev}", params={"at": "2031-05-21T02:00:00+02:00"}).json()
    assert later["at"] == "2031-05-21T00:00:00Z" and later["plugged_in"] is True


def test_series(client: TestClient) -> None:
    dev = make(client, "solar_inverter", 1)[0]
    r = client.get(f"/v1/devices/{dev}/series",
                   params={"start": "2031-05-20T00:00:00Z", "end": "2031-05-21T00:00:00Z", "step": "1h"})
    points = r.json()["points"]
    assert len(points) == 25 and points[0]["power_kw"] == 0.0 and points[12]["power_kw"] > 0
    default = client.get(f"/v1/devices/{dev}/series").json()
    assert len(default["points"]) == 97 and default["step_s"] == 900


def test_listing_pages_and_state(client: TestClient) -> None:
    vs = make(client, "vehicle", 3, name_prefix="car-")
    bs = make(client, "battery", 2)
    first = client.get("/v1/devices", params={"limit": 4}).json()
    assert [i["id"] for i in first["items"]] == [*vs, bs[0]] and first["items"][0]["name"] == "car-1"
    second = client.get("/v1/devices", params={"limit": 4, "cursor": first["next_cursor"]}).json()
    assert [i["id"] for i in second["items"]] == [bs[1]] and second["next_cursor"] is None
    only = client.get("/v1/devices", params={"kind": "battery", "with_state": True}).json()
    assert [i["id"] for i in only["items"]] == bs and only["items"][0]["state"]["status"] == "charging"


def test_override_lifecycle(client: TestClient) -> None:
    dev = make(client, "vehicle", 1)[0]
    r = client.post(f"/v1/devices/{dev}/overrides", json={"type": "offline", "duration_s": 600})
    assert r.status_code == 201 and r.json()["active"] is True
    oid = r.json()["id"]
    assert client.get(f"/v1/devices/{dev}").json()["online"] is False
    after = client.get(f"/v1/devices/{dev}", params={"at": "2031-05-20T12:10:00Z"}).json()
    assert after["online"] is True and after["overrides"] == []
    assert [o["id"] for o in client.get(f"/v1/devices/{dev}/overrides").json()["items"]] == [oid]
    assert client.delete(f"/v1/devices/{dev}/overrides/{oid}").json() == {"deleted": 1}
    assert client.get(f"/v1/devices/{dev}").json()["online"] is True
    client.post(f"/v1/devices/{dev}/overrides", json={"type": "capability_lost", "capability": "state_of_charge",
                                                      "end": "2031-05-20T13:00:00Z"})
    assert client.get(f"/v1/devices/{dev}").json()["soc_pct"] is None
    assert client.delete(f"/v1/devices/{dev}/overrides").json() == {"deleted": 1}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "fragment"),
    [
        ("post", "/v1/devices", {"json": {"kind": "boat"}}, 422, "use one of: vehicle, battery, solar_inverter"),
        ("post", "/v1/devices", {"json": {"kind": "vehicle", "count": 0}}, 422, "count"),
        ("get", "/v1/devices", {"params": {"kind": "boat"}}, 422, "use one of"),
        ("get", "/v1/devices", {"params": {"cursor": "garbage!"}}, 400, "next_cursor"),
        ("get", "/v1/devices", {"params": {"limit": 5000}}, 422, "limit"),
        ("get", "/v1/devices/not-an-id", {}, 400, "12 lowercase hex"),
        ("get", "/v1/devices/{unknown}", {}, 404, "POST /v1/devices"),
        ("get", "/v1/devices/{dev}", {"params": {"at": "1999-01-01T00:00:00Z"}}, 422, "supported range"),
        ("get", "/v1/devices/{dev}", {"params": {"at": "yesterday"}}, 422, "ISO 8601"),
        ("get", "/v1/devices/{dev}/series", {"params": {"step": "1s"}}, 422, f"at most {MAX_SERIES_POINTS}"),
        ("get", "/v1/devices/{dev}/series", {"params": {"step": "soon"}}, 422, "PT15M"),
        ("get", "/v1/devices/{dev}/series", {"params": {"start": "2031-05-21T00:00:00Z"}}, 422, "before start"),
        ("post", "/v1/devices/{dev}/overrides", {"json": {"type": "offline", "start": "2031-05-20T12:00:00Z",
                                                          "end": "2031-05-20T11:00:00Z"}}, 422, "after start"),
        ("post", "/v1/devices/{dev}/overrides", {"json": {"type": "offline"}}, 422, "duration_s"),
        ("post", "/v1/devices/{dev}/overrides", {"json": {"type": "explode", "duration_s": 5}}, 422, "type"),
        ("post", "/v1/devices/{dev}/overrides", {"json": {"type": "offline", "end": "2100-02-01T00:00:00Z"}},
         422, "supported range"),
        ("delete", "/v1/devices/{dev}/overrides/ovr-999", {}, 404, "not found"),
    ],
)
def test_bad_input_says_what_to_fix(client: TestClient, method: str, path: str, kwargs: dict[str, object],
                                    status: int, fragment: str) -> None:
    dev = make(client, "vehicle", 1)[0]
    url = path.format(dev=dev, unknown=device_id("vehicle", 77))
    assert_problem(getattr(client, method)(url, **kwargs), status, fragment)
