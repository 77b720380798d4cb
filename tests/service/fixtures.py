"""Fixtures shared by the service, API and CLI tests: records on SQLite *and* the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandboxes.service import LOCAL_ADMIN, Principal, Role, SandboxCreate, SandboxService
from sandboxes.service.factory import open_database
from sandboxes.service.fake_engine import FakeEngine
from sandboxes.service.ports import EnginePort
from sandboxes.service.runner import InlineDispatcher
from sandboxes.settings import Settings
from sandboxes.store.database import Database

ACME = Principal(name="alice@acme", role=Role.PROVIDER_ADMIN, provider_id="acme")
GLOBEX = Principal(name="bob@globex", role=Role.PROVIDER_ADMIN, provider_id="globex")
ADMIN = LOCAL_ADMIN


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'records.db'}"
    server = request.getfixturevalue("postgres_server")
    return str(server.create_database())


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, engine="fake",  # type: ignore[arg-type]
                    worker_pool_size=2)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = open_database(settings)
    yield database
    database.dispose()


@pytest.fixture
def engine(settings: Settings) -> FakeEngine:
    return FakeEngine(settings.effective_stacks_dir)


@pytest.fixture
def service(settings: Settings, db: Database, engine: FakeEngine) -> SandboxService:
    """Operations run synchronously in this process with the fake engine: tests of the rules stay fast."""

    def factory() -> EnginePort:
        return engine

    return SandboxService(settings, db, dispatcher=InlineDispatcher(settings, db, factory, sync=True),
                          engine_factory=factory)


def make(service: SandboxService, principal: Principal = ACME, **fields: object) -> str:
    body = {"name": "API Integration Test", "modules": ["cpo"], **fields}
    return service.create(principal, SandboxCreate.model_validate(body)).sandbox.slug
