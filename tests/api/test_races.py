"""Races through HTTP, on SQLite and the real PostgreSQL: 20 settings updates -> 1 x 202, 19 x 409."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sandboxes.api import create_app
from sandboxes.service import Role, SandboxService
from sandboxes.service.factory import open_database
from sandboxes.service.ports import NullDispatcher
from sandboxes.settings import Settings


@pytest.fixture(params=["sqlite", "postgres"])
def racing(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'records.db'}"
    else:
        url = str(request.getfixturevalue("postgres_server").create_database())
    settings = Settings(data_dir=tmp_path / "data", database_url=url, engine="fake")  # type: ignore[arg-type]
    db = open_database(settings)
    service = SandboxService(settings, db, dispatcher=NullDispatcher())
    token = service.issue_token("racer", Role.PROVIDER_ADMIN, "acme").token
    with TestClient(create_app(service=service, recover=False)) as client:
        yield client, {"Authorization": f"Bearer {token}"}
    db.dispose()


def _race(n: int, call: Any) -> list[Any]:
    barrier = threading.Barrier(n)
    out: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        out[i] = call(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def test_twenty_concurrent_settings_updates(racing: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = racing
    created = client.post("/v1/sandboxes", json={"name": "race", "modules": ["cpo"]}, headers=headers).json()
    slug = created["sandbox"]["slug"]
    # The create's own up is still queued (nothing runs operations here): mark it finished first.
    service: SandboxService = client.app.state.service  # type: ignore[attr-defined]
    from sandboxes.service.execute import finish
    from sandboxes.service.schemas import OperationStatus

    finish(service.db, created["operation"]["id"], OperationStatus.SUCCEEDED, summary={})
    responses = _race(20, lambda i: client.patch(f"/v1/sandboxes/{slug}/settings",
                                                 json={"feature_toggles": {f"t{i}": True}}, headers=headers))
    codes = Counter(r.status_code for r in responses)
    assert codes == {202: 1, 409: 19}, [r.text for r in responses if r.status_code not in (202, 409)]
    winner = next(r for r in responses if r.status_code == 202).json()["operation"]["id"]
    ids = Counter(r.json().get("operation_id") for r in responses if r.status_code == 409)
    assert ids[winner] >= 15 and set(ids) <= {winner, None}


def test_ten_concurrent_creates_distinct_slugs(racing: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = racing
    responses = _race(10, lambda i: client.post("/v1/sandboxes", json={"name": f"n{i}", "modules": ["msp"]},
                                                headers=headers))
    assert [r.status_code for r in responses] == [202] * 10
    assert len({r.json()["sandbox"]["slug"] for r in responses}) == 10
