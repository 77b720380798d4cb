"""Helpers for the reconcile tests: stack files from a few fields, a fake engine, a ledger in tmp."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandboxes import stackfiles
from sandboxes.reconcile import Ledger
from sandboxes.spec import parse_spec
from tests.reconcile.fakes import FakeEngine

OWNER = "git:stacks"


def write_sandbox(directory: Path, slug: str, owner: str | None = None, **fields: Any) -> Path:
    data: dict[str, Any] = {"slug": slug, "name": fields.pop("name", slug), "modules": ["msp"], **fields}
    return stackfiles.write(directory, parse_spec(data), owner=owner)


@pytest.fixture
def stacks(tmp_path: Path) -> Path:
    directory = tmp_path / "stacks"
    directory.mkdir()
    return directory


@pytest.fixture
def engine(stacks: Path) -> FakeEngine:
    return FakeEngine(stacks)


@pytest.fixture
def ledger(tmp_path: Path, stacks: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.json", directory=stacks, backend="fake://")
