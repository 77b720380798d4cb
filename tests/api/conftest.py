"""HTTP API fixtures: the app over a service with the fake engine, and a token per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sandboxes.api import create_app
from sandboxes.service import Role, SandboxService
from tests.service.fixtures import db, engine, service, settings

__all__ = ["db", "engine", "service", "settings"]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite for the API tests; the races run on both databases (``any_database_url``)."""
    return f"sqlite:///{tmp_path / 'records.db'}"


@dataclass
class Tokens:
    acme: str
    globex: str
    admin: str

    def headers(self, who: str) -> dict[str, str]:
        if who == "anonymous":
            return {}
        if who == "bad-token":
            return {"Authorization": "Bearer sbx_not-a-real-token"}
        return {"Authorization": f"Bearer {getattr(self, who)}"}


@pytest.fixture
def tokens(service: SandboxService) -> Tokens:
    return Tokens(
        acme=service.issue_token("alice@acme", Role.PROVIDER_ADMIN, "acme").token,
        globex=service.issue_token("bob@globex", Role.PROVIDER_ADMIN, "globex").token,
        admin=service.issue_token("sales@platform", Role.SYSTEM_ADMIN).token,
    )


@pytest.fixture
def client(service: SandboxService) -> Iterator[TestClient]:
    with TestClient(create_app(service=service, recover=False), raise_server_exceptions=False) as test_client:
        yield test_client
