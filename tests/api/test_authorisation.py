"""The authorisation matrix: each role x each endpoint x own/other provider, through HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.api.conftest import Tokens

WHO = ("acme", "globex", "admin", "anonymous")
Call = Callable[[TestClient, dict[str, str], str, str], Response]

# endpoint -> (call, expected status for: acme (owner), globex (other provider), admin (system), anonymous)
MATRIX: dict[str, tuple[Call, tuple[int, int, int, int]]] = {
    "get sandbox": (lambda c, h, s, o: c.get(f"/v1/sandboxes/{s}", headers=h), (200, 404, 200, 401)),
    "list sandboxes": (lambda c, h, s, o: c.get("/v1/sandboxes", headers=h), (200, 200, 200, 401)),
    "edit": (lambda c, h, s, o: c.patch(f"/v1/sandboxes/{s}", json={"name": "x"}, headers=h), (202, 404, 202, 401)),
    "delete": (lambda c, h, s, o: c.delete(f"/v1/sandboxes/{s}", params={"confirm": s}, headers=h),
               (202, 404, 202, 401)),
    "get settings": (lambda c, h, s, o: c.get(f"/v1/sandboxes/{s}/settings", headers=h), (200, 404, 200, 401)),
    "set settings": (lambda c, h, s, o: c.patch(f"/v1/sandboxes/{s}/settings", json={"billing": {"invoicing": True}},
                                                headers=h), (202, 404, 202, 401)),
    "credentials": (lambda c, h, s, o: c.get(f"/v1/sandboxes/{s}/credentials", headers=h), (200, 404, 200, 401)),
    "refresh": (lambda c, h, s, o: c.post(f"/v1/sandboxes/{s}/refresh", headers=h), (202, 404, 202, 401)),
    "reseed": (lambda c, h, s, o: c.post(f"/v1/sandboxes/{s}/reseed", params={"confirm": s}, headers=h),
               (202, 404, 202, 401)),
    "cancel finished operation": (lambda c, h, s, o: c.post(f"/v1/operations/{o}/cancel", headers=h),
                                  (422, 404, 422, 401)),
    "repair": (lambda c, h, s, o: c.post(f"/v1/sandboxes/{s}/repair", headers=h), (202, 404, 202, 401)),
    "get operation": (lambda c, h, s, o: c.get(f"/v1/operations/{o}", headers=h), (200, 404, 200, 401)),
    "operation events": (lambda c, h, s, o: c.get(f"/v1/operations/{o}/events", headers=h), (200, 404, 200, 401)),
    "create for acme": (lambda c, h, s, o: c.post("/v1/sandboxes", json={"name": "n", "modules": ["cpo"],
                                                                         "provider_id": "acme"}, headers=h),
                        (202, 403, 202, 401)),
    "create with live provider": (lambda c, h, s, o: c.post("/v1/sandboxes", json={
        "name": "n", "modules": ["cpo"], "live_provider_id": "acme-live"}, headers=h), (403, 403, 202, 401)),
    "create prospect (no provider)": (lambda c, h, s, o: c.post("/v1/sandboxes", json={
        "name": "n", "modules": ["cpo"]}, headers=h), (202, 202, 202, 401)),
    "create child of acme's": (lambda c, h, s, o: c.post("/v1/sandboxes", json={
        "name": "n", "modules": ["cpo"], "parent": s, "data": "copy"}, headers=h), (202, 422, 202, 401)),
}


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
@pytest.mark.parametrize("who", WHO)
def test_matrix(client: TestClient, tokens: Tokens, endpoint: str, who: str) -> None:
    created: dict[str, Any] = client.post("/v1/sandboxes", json={"name": "acme's", "modules": ["cpo"]},
                                          headers=tokens.headers("acme")).json()
    slug, op_id = created["sandbox"]["slug"], created["operation"]["id"]
    call, expected = MATRIX[endpoint]
    response = call(client, tokens.headers(who), slug, op_id)
    assert response.status_code == expected[WHO.index(who)], response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    if endpoint == "list sandboxes" and who != "anonymous":
        slugs = {s["slug"] for s in response.json()["items"]}
        assert (slug in slugs) == (who in ("acme", "admin"))
    if endpoint == "create prospect (no provider)" and who in ("acme", "globex"):
        assert response.json()["sandbox"]["provider_id"] == who  # provider admins always get their own
