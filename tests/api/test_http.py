"""The HTTP shell: status codes, problem details, SSE, OpenAPI, secrets kept out of responses."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from sandboxes.api import create_app
from sandboxes.service import SandboxService
from sandboxes.service.fake_engine import FakeEngine
from sandboxes.service.ports import NullDispatcher
from sandboxes.store.database import connect
from tests.api.conftest import Tokens

PROBLEM = "application/problem+json"


def _create(client: TestClient, tokens: Tokens, who: str = "acme", **body: Any) -> dict[str, Any]:
    response = client.post("/v1/sandboxes", json={"name": "API Integration Test", "modules": ["cpo"], **body},
                           headers=tokens.headers(who))
    assert response.status_code == 202, response.text
    data: dict[str, Any] = response.json()
    return data


def test_create_returns_202_with_sandbox_and_operation(client: TestClient, tokens: Tokens) -> None:
    response = client.post("/v1/sandboxes", json={"name": "Training", "modules": ["msp", "cpo"],
                                                  "data": "preconfigured"}, headers=tokens.headers("acme"))
    assert response.status_code == 202
    body = response.json()
    assert body["sandbox"]["slug"].startswith("sandbox-") and body["sandbox"]["provider_id"] == "acme"
    assert body["operation"]["kind"] == "up"
    assert response.headers["location"] == f"/v1/operations/{body['operation']['id']}"
    op = client.get(response.headers["location"], headers=tokens.headers("acme")).json()
    assert op["status"] == "succeeded"


def test_problem_details_for_each_error(client: TestClient, tokens: Tokens, service: SandboxService) -> None:
    r = client.get("/v1/sandboxes")
    assert r.status_code == 401 and r.headers["content-type"] == PROBLEM and r.headers["www-authenticate"] == "Bearer"
    assert {"type", "title", "status", "detail"} <= r.json().keys()
    assert client.get("/v1/sandboxes", headers=tokens.headers("bad-token")).status_code == 401

    r = client.post("/v1/sandboxes", json={"name": "", "modules": ["bus"], "colour": 1},
                    headers=tokens.headers("acme"))
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"name", "modules.0", "colour"} <= fields, fields

    r = client.post("/v1/sandboxes", content=b"{not json", headers={**tokens.headers("acme"),
                                                                     "content-type": "application/json"})
    assert r.status_code == 400 and r.json()["errors"]

    r = client.post("/v1/sandboxes", json={"name": "x", "modules": ["cpo"], "data": "copy"},
                    headers=tokens.headers("acme"))
    assert r.status_code == 422 and "parent" in json.dumps(r.json()["errors"])

    r = client.post("/v1/sandboxes", json={"name": "x", "modules": ["cpo"], "provider_id": "globex"},
                    headers=tokens.headers("acme"))
    assert r.status_code == 403 and r.json()["type"].endswith("/forbidden")

    slug = _create(client, tokens)["sandbox"]["slug"]
    r = client.delete(f"/v1/sandboxes/{slug}", params={"confirm": "sandbox-nope00"}, headers=tokens.headers("acme"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "confirm"
    assert client.get("/v1/sandboxes/sandbox-zzzzzz", headers=tokens.headers("acme")).status_code == 404

    service.dispatcher = NullDispatcher()
    active = client.post(f"/v1/sandboxes/{slug}/refresh", headers=tokens.headers("acme")).json()
    r = client.patch(f"/v1/sandboxes/{slug}/settings", json={"billing": {"invoicing": True}},
                     headers=tokens.headers("acme"))
    assert r.status_code == 409 and r.json()["operation_id"] == active["operation"]["id"]


def test_list_filters_and_pagination(client: TestClient, tokens: Tokens) -> None:
    parent = _create(client, tokens)["sandbox"]["slug"]
    for _ in range(3):
        _create(client, tokens, parent=parent)
    _create(client, tokens, who="globex")
    h = tokens.headers("acme")
    assert client.get("/v1/sandboxes", headers=h).json()["total"] == 4
    assert client.get("/v1/sandboxes", params={"parent": parent}, headers=h).json()["total"] == 3
    page = client.get("/v1/sandboxes", params={"limit": 2, "offset": 2}, headers=h).json()
    assert (page["total"], len(page["items"]), page["offset"]) == (4, 2, 2)
    assert client.get("/v1/sandboxes", params={"status": "ready"}, headers=h).json()["total"] == 4
    assert client.get("/v1/sandboxes", params={"status": "nope"}, headers=h).status_code == 422
    assert client.get("/v1/sandboxes", params={"limit": 0}, headers=h).status_code == 422
    assert client.get("/v1/sandboxes", headers=tokens.headers("admin")).json()["total"] == 5
    assert client.get("/v1/sandboxes", params={"provider_id": "globex"},
                      headers=tokens.headers("admin")).json()["total"] == 1


def test_settings_edit_and_delete_flow(client: TestClient, tokens: Tokens) -> None:
    h = tokens.headers("acme")
    slug = _create(client, tokens)["sandbox"]["slug"]
    r = client.patch(f"/v1/sandboxes/{slug}/settings",
                     json={"look_and_feel": {"show_sandbox_banner": False}}, headers=h)
    assert r.status_code == 202
    assert client.get(f"/v1/sandboxes/{slug}/settings", headers=h).json()["look_and_feel"]["show_sandbox_banner"] \
        is False
    r = client.patch(f"/v1/sandboxes/{slug}", json={"name": "Renamed"}, headers=h)
    assert r.status_code == 202 and r.json()["sandbox"]["name"] == "Renamed"
    r = client.delete(f"/v1/sandboxes/{slug}", params={"confirm": slug}, headers=h)
    assert r.status_code == 202 and r.json()["operation"]["kind"] == "destroy"
    assert client.get(f"/v1/sandboxes/{slug}", headers=h).status_code == 404
    assert client.get(f"/v1/operations/{r.json()['operation']['id']}", headers=h).json()["status"] == "succeeded"
    ops = client.get("/v1/operations", params={"sandbox": slug}, headers=h).json()
    assert [o["kind"] for o in ops] == ["destroy", "up", "up", "up"]


def test_events_stream_as_sse_until_the_end(client: TestClient, tokens: Tokens) -> None:
    op_id = _create(client, tokens)["operation"]["id"]
    with client.stream("GET", f"/v1/operations/{op_id}/events", headers=tokens.headers("acme")) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    blocks = [b for b in text.split("\n\n") if b.strip()]
    assert blocks[0].startswith("id: 1\nevent: engine\n")
    assert blocks[-1].startswith("event: end\n")
    assert json.loads(blocks[-1].split("data: ", 1)[1])["status"] == "succeeded"
    resumed = client.get(f"/v1/operations/{op_id}/events", headers={**tokens.headers("acme"), "Last-Event-ID": "2"})
    assert "id: 1\n" not in resumed.text and "id: 3\n" in resumed.text


def test_secrets_only_in_credentials(client: TestClient, tokens: Tokens, engine: FakeEngine) -> None:
    h = tokens.headers("acme")
    created = _create(client, tokens)
    slug, op_id = created["sandbox"]["slug"], created["operation"]["id"]
    secret = engine.outputs(slug, include_secrets=True)["api_secret"]
    creds = client.get(f"/v1/sandboxes/{slug}/credentials", headers=h)
    assert creds.json()["api_secret"] == secret and creds.headers["cache-control"] == "no-store"
    for path in (f"/v1/sandboxes/{slug}", "/v1/sandboxes", f"/v1/sandboxes/{slug}/settings", f"/v1/operations/{op_id}",
                 f"/v1/operations/{op_id}/events", "/v1/operations"):
        assert secret not in client.get(path, headers=h).text, path
    assert tokens.acme not in client.get("/v1/operations", headers=h).text


def test_health_readiness_and_openapi(client: TestClient, service: SandboxService) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    schema = client.get("/openapi.json").json()
    for path in ("/v1/sandboxes", "/v1/sandboxes/{slug}", "/v1/sandboxes/{slug}/settings",
                 "/v1/sandboxes/{slug}/credentials", "/v1/operations/{operation_id}",
                 "/v1/operations/{operation_id}/events", "/healthz", "/readyz"):
        assert path in schema["paths"], path
    unreachable = SandboxService(service.settings, connect("postgresql://nobody:x@127.0.0.1:1/records"))
    with TestClient(create_app(service=unreachable, recover=False)) as down:
        r = down.get("/readyz")
        assert r.status_code == 503 and r.headers["content-type"] == PROBLEM
        assert "nobody" not in r.text  # never the database URL
        assert down.get("/healthz").status_code == 200


def test_cancel_queued_operation(client: TestClient, tokens: Tokens, service: SandboxService) -> None:
    h = tokens.headers("acme")
    slug = _create(client, tokens)["sandbox"]["slug"]
    service.dispatcher = NullDispatcher()
    op_id = client.post(f"/v1/sandboxes/{slug}/refresh", headers=h).json()["operation"]["id"]
    assert client.post(f"/v1/operations/{op_id}/cancel", headers=tokens.headers("globex")).status_code == 404
    r = client.post(f"/v1/operations/{op_id}/cancel", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert client.post(f"/v1/operations/{op_id}/cancel", headers=h).status_code == 422
    assert client.post(f"/v1/sandboxes/{slug}/refresh", headers=h).status_code == 202
