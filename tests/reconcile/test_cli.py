"""The CLI through Typer's runner: exit codes for CI, JSON for machines, Rich for people."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sandboxes import reconcile
from sandboxes.cli import app
from sandboxes.reconcile import Ledger
from tests.reconcile.conftest import write_sandbox
from tests.reconcile.fakes import FakeEngine

A, B = "sandbox-aaaaaa", "sandbox-bbbbbb"
runner = CliRunner()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, stacks: Path, engine: FakeEngine, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(reconcile, "open_engine", lambda directory, force_conflicts=False: (engine, "fake://"))

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, [*args, "--dir", str(stacks), "--ledger", str(tmp_path / "ledger.json")])

    return run


def test_exit_codes_through_a_cycle(cli, stacks: Path, engine: FakeEngine) -> None:  # type: ignore[no-untyped-def]
    write_sandbox(stacks, A)
    write_sandbox(stacks, B)
    result = cli("reconcile")
    assert result.exit_code == 2, result.output
    assert "create" in result.output and "new file" in result.output
    assert engine.ops("up") == []  # --plan is the default: nothing applied
    result = cli("reconcile", "--apply")
    assert result.exit_code == 2, result.output
    assert "2 succeeded" in result.output
    assert cli("reconcile").exit_code == 0
    assert cli("reconcile", "--apply").exit_code == 0
    (stacks / f"Pulumi.{B}.yaml").unlink()
    result = cli("reconcile")
    assert result.exit_code == 0 and "pass --prune" in result.output
    assert cli("reconcile", "--prune").exit_code == 2
    assert cli("reconcile", "--apply", "--prune").exit_code == 2
    assert B not in engine.state


def test_bad_file_exits_1_but_the_rest_is_applied(cli, stacks: Path, engine: FakeEngine) -> None:  # type: ignore[no-untyped-def]
    write_sandbox(stacks, A)
    (stacks / f"Pulumi.{B}.yaml").write_text("config:\n  sandbox:spec: {slug: sandbox-bbbbbb, modules: [msp]}\n")
    result = cli("reconcile", "--apply")
    assert result.exit_code == 1
    assert f"Pulumi.{B}.yaml" in result.output and "name: Field required" in result.output
    assert A in engine.state


def test_failed_operation_exits_1(cli, stacks: Path, engine: FakeEngine) -> None:  # type: ignore[no-untyped-def]
    write_sandbox(stacks, A)
    engine.fail[A] = "boom"
    result = cli("reconcile", "--apply")
    assert result.exit_code == 1 and "failed" in result.output and "boom" in result.output


def test_json_output(cli, stacks: Path, engine: FakeEngine) -> None:  # type: ignore[no-untyped-def]
    write_sandbox(stacks, A)
    (stacks / f"Pulumi.{B}.yaml").write_text("not: [valid")
    data = json.loads(cli("reconcile", "--output", "json").stdout)
    assert data["mode"] == "plan" and data["exit_code"] == 1
    assert data["items"][0]["slug"] == A and data["items"][0]["action"] == "create"
    assert data["items"][0]["reason"] == "new file"
    assert data["problems"][0]["slug"] == B and "malformed YAML" in data["problems"][0]["reason"]
    assert data["counts"]["create"] == 1 and data["counts"]["error"] == 1
    (stacks / f"Pulumi.{B}.yaml").unlink()
    data = json.loads(cli("reconcile", "--apply", "-o", "json").stdout)
    assert data["mode"] == "apply" and data["exit_code"] == 2
    assert data["outcomes"] == [{"slug": A, "action": "create", "status": "succeeded",
                                 "detail": "3 create", "seconds": data["outcomes"][0]["seconds"]}]


def test_drift_command(cli, stacks: Path, engine: FakeEngine) -> None:  # type: ignore[no-untyped-def]
    write_sandbox(stacks, A)
    write_sandbox(stacks, B)
    assert cli("reconcile", "--apply").exit_code == 2
    assert cli("drift").exit_code == 0
    engine.drift[A] = {"update": 2}
    result = cli("drift", "--output", "json")
    assert result.exit_code == 2
    reports = {r["slug"]: r for r in json.loads(result.stdout)["reports"]}
    assert reports[A]["drifted"] and reports[A]["changes"] == {"update": 2} and not reports[B]["drifted"]
    assert reports[A]["resources"] == [f"{A}-web"]
    engine.calls.clear()
    result = cli("drift", "--remediate")
    assert result.exit_code == 2 and "yes" in result.output
    assert [c for c in engine.ops() if c[0] in ("refresh", "up")] == [("refresh", A), ("up", A)]
    assert cli("drift").exit_code == 0


def test_missing_dir_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["reconcile", "--dir", str(tmp_path / "nope")])
    assert result.exit_code == 64


def test_ledger_file_is_written_next_to_data_dir_by_default(monkeypatch: pytest.MonkeyPatch, stacks: Path,
                                                           engine: FakeEngine, tmp_path: Path) -> None:
    monkeypatch.setenv("SANDBOXES_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(reconcile, "open_engine", lambda directory, force_conflicts=False: (engine, "fake://"))
    write_sandbox(stacks, A)
    assert runner.invoke(app, ["reconcile", "--apply", "--dir", str(stacks)]).exit_code == 2
    [path] = (tmp_path / "data" / "reconcile").glob("*.json")
    assert Ledger(path).get(A) is not None
    assert path == reconcile.default_path(stacks, "fake://")


def test_export_operator_command(monkeypatch: pytest.MonkeyPatch, stacks: Path, engine: FakeEngine,
                                 tmp_path: Path) -> None:
    write_sandbox(stacks, A)
    monkeypatch.setattr(reconcile, "open_engine",
                        lambda directory, force_conflicts=False: (engine, "file:///local/state"))
    monkeypatch.setattr(reconcile, "git_origin", lambda directory: None)
    out = tmp_path / "op"
    base = ["export", "operator", "--dir", str(stacks), "--out", str(out)]
    result = runner.invoke(app, base)
    assert result.exit_code == 64 and "--repo" in result.output
    result = runner.invoke(app, [*base, "--repo", "https://git.example.com/s.git"])
    assert result.exit_code == 64 and "--backend" in result.output  # a file:// backend is unreachable from pods
    result = runner.invoke(app, [*base, "--repo", "https://git.example.com/s.git", "--backend", "s3://b/p",
                                 "-o", "json"])
    assert result.exit_code == 0, result.output
    assert [Path(p).name for p in json.loads(result.stdout)["written"]] == [f"{A}.yaml"]


def test_remediation_engine_forces_field_ownership(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SANDBOXES_DATA_DIR", str(tmp_path))
    plain, _ = reconcile.open_engine(tmp_path)
    forced, _ = reconcile.open_engine(tmp_path, force_conflicts=True)
    assert "PULUMI_K8S_ENABLE_PATCH_FORCE" not in plain.environment.exports()  # type: ignore[attr-defined]
    exports = forced.environment.exports()  # type: ignore[attr-defined]
    assert exports["PULUMI_K8S_ENABLE_PATCH_FORCE"] == "true"
    assert exports["PULUMI_BACKEND_URL"] == plain.environment.exports()["PULUMI_BACKEND_URL"]  # type: ignore[attr-defined]


def test_reconcile_drift_flag_plans_and_applies_drift(cli, stacks: Path, engine: FakeEngine) -> None:  # type: ignore[no-untyped-def]
    write_sandbox(stacks, A)
    assert cli("reconcile", "--apply").exit_code == 2
    engine.drift[A] = {"update": 1}
    assert cli("reconcile").exit_code == 0  # drift is only looked for with --drift
    result = cli("reconcile", "--drift", "-o", "json")
    assert result.exit_code == 2
    [item] = json.loads(result.stdout)["items"]
    assert (item["action"], item["reason"], item["detail"]) == ("update", "drift found", "1 to update")
    engine.calls.clear()
    assert cli("reconcile", "--drift", "--apply").exit_code == 2
    assert [c for c in engine.ops() if c[0] in ("refresh", "up")] == [("refresh", A), ("up", A)]
    assert cli("reconcile", "--drift").exit_code == 0
