"""``eval "$(sandboxctl env)"`` gives a shell where pulumi and kubectl work, and never clobbers a user's choices."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sandboxes.cli import app
from tests.fixtures.cluster import KubeCluster

SANDBOXCTL = str(Path(sys.executable).parent / "sandboxctl")


def _exports(output: str) -> dict[str, str]:
    pairs = {}
    for line in output.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        pairs[key] = shlex.split(value)[0] if value else ""
    return pairs


def test_explicit_kubeconfig_and_backend_win(tmp_path: Path) -> None:
    env = {"KUBECONFIG": "/home/me/.kube/prod", "PULUMI_BACKEND_URL": "s3://team-state",
           "PULUMI_CONFIG_PASSPHRASE": "theirs"}
    result = CliRunner().invoke(app, ["env"], env=env)
    assert result.exit_code == 0, result.output
    exports = _exports(result.stdout)
    assert exports["KUBECONFIG"] == "/home/me/.kube/prod"
    assert exports["PULUMI_BACKEND_URL"] == "s3://team-state"
    assert "PULUMI_CONFIG_PASSPHRASE_FILE" not in exports


def test_embedded_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOXES_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["env"])
    exports = _exports(result.stdout)
    assert exports["KUBECONFIG"] == str(tmp_path / "cluster" / "kubeconfig")
    assert exports["PULUMI_BACKEND_URL"] == f"file://{tmp_path}/pulumi/state"
    passphrase = Path(exports["PULUMI_CONFIG_PASSPHRASE_FILE"])
    assert passphrase.stat().st_mode & 0o777 == 0o600
    assert exports["PULUMI_SKIP_UPDATE_CHECK"] == "true"
    assert exports["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert exports["PATH"].split(":")[0].endswith("/bin")


@pytest.mark.engine
def test_a_shell_with_the_exports_runs_pulumi_and_kubectl(kube_cluster: KubeCluster) -> None:
    script = f'eval "$({SANDBOXCTL} env)" && pulumi version && kubectl get nodes -o name'
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "PULUMI_BACKEND_URL")}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split()
    assert lines[0] == "v3.259.0"
    assert {"node/node-000000", "node/node-000001"} <= set(lines[1:])
