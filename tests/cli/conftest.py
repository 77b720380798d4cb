"""CLI fixtures: a private data dir with the fake engine, so commands run real worker processes fast."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sandboxes.cli import app


class Cli:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0) -> str:
        result = self.runner.invoke(app, list(args), env=self.env, catch_exceptions=False)
        assert result.exit_code == code, f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        return result.stdout + result.stderr

    def json(self, *args: str) -> Any:
        result = self.runner.invoke(app, [*args, "--output", "json"], env=self.env, catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    env = {"SANDBOXES_DATA_DIR": str(tmp_path / "data"), "SANDBOXES_ENGINE": "fake",
           "SANDBOXES_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'records.db'}",
           "SANDBOXES_API_URL": "", "SANDBOXES_TOKEN": "", "COLUMNS": "200"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield Cli(env)
