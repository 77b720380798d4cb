"""Hypothesis over every request field: whatever a client sends, the answer is never a 5xx."""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import Tokens

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
_slugish = st.one_of(st.just("sandbox-abc123"), st.from_regex(r"sandbox-[0-9a-z]{6}", fullmatch=True),
                     st.text(max_size=40))
_ident = st.one_of(st.none(), st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True), st.text(max_size=70), _json)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, _json)


_settings = st.fixed_dictionaries({}, optional={
    "look_and_feel": _maybe(st.fixed_dictionaries({}, optional={
        "light": st.fixed_dictionaries({}, optional={"primary": st.one_of(
            st.from_regex(r"#[0-9a-f]{6}", fullmatch=True), st.text(max_size=10))}),
        "show_sandbox_banner": _maybe(st.booleans()),
        "logo_light": st.text(max_size=60)})),
    "product_selection": _maybe(st.fixed_dictionaries({"visible_modules": _maybe(
        st.lists(st.sampled_from(["msp", "cpo", "x"]), max_size=3))})),
    "roaming": _maybe(st.fixed_dictionaries({"sub_operators": st.lists(_json, max_size=2)})),
    "feature_toggles": _maybe(st.dictionaries(st.text(string.ascii_lowercase + "_9", max_size=70), _json,
                                              max_size=3)),
    "billing": _json,
})

_create = st.fixed_dictionaries({}, optional={
    "name": _maybe(st.text(max_size=100)),
    "description": _maybe(st.text(max_size=600)),
    "modules": _maybe(st.lists(st.sampled_from(["msp", "cpo", "MSP", ""]), max_size=3)),
    "data": _maybe(st.sampled_from(["blank", "preconfigured", "copy", "masked-copy", "prod"])),
    "parent": _maybe(_slugish),
    "live_provider_id": _ident,
    "provider_id": _ident,
    "settings": _maybe(_settings),
    "access": _maybe(st.fixed_dictionaries({}, optional={"groups": st.lists(st.text(max_size=20), max_size=3),
                                                         "users": _json})),
    "platform": _maybe(st.fixed_dictionaries({}, optional={
        "size": st.sampled_from(["small", "medium", "large", "huge"]),
        "expires_at": st.one_of(st.datetimes().map(lambda d: d.isoformat()), st.text(max_size=30)),
        "base_domain": st.text(max_size=40), "tls": _json, "image": st.text(max_size=40)})),
    "devices": _json,
    "integrations": _json,
    "unexpected": _json,
})

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


@FUZZ
@given(body=_create, who=st.sampled_from(["acme", "admin"]))
def test_create_never_5xx(client: TestClient, tokens: Tokens, body: dict[str, Any], who: str) -> None:
    response = client.post("/v1/sandboxes", json=body, headers=tokens.headers(who))
    assert response.status_code < 500, (body, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        if response.status_code == 422:
            assert response.json()["errors"], response.text


@FUZZ
@given(patch=st.one_of(_settings, _json), update=_json, slug=_slugish, confirm=st.one_of(st.none(), _slugish),
       query=st.dictionaries(st.sampled_from(["limit", "offset", "status", "parent", "provider_id"]),
                             st.text(max_size=12), max_size=4))
def test_edits_and_queries_never_5xx(client: TestClient, tokens: Tokens, patch: Any, update: Any, slug: str,
                                     confirm: str | None, query: dict[str, str]) -> None:
    headers = tokens.headers("acme")
    slug = quote(slug, safe="") or "%20"
    own = client.post("/v1/sandboxes", json={"name": "fuzz", "modules": ["msp", "cpo"]}, headers=headers)
    target = own.json()["sandbox"]["slug"]
    for response in (
        client.patch(f"/v1/sandboxes/{target}/settings", json=patch, headers=headers),
        client.patch(f"/v1/sandboxes/{target}", json=update, headers=headers),
        client.get(f"/v1/sandboxes/{slug}", headers=headers),
        client.delete(f"/v1/sandboxes/{slug}", params={"confirm": confirm} if confirm else {}, headers=headers),
        client.get("/v1/sandboxes", params=query, headers=headers),
        client.get(f"/v1/operations/{slug}", headers=headers),
    ):
        assert response.status_code < 500, response.text
