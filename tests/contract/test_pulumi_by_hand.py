"""The README's platform-engineer path: ``pulumi up -s sandbox-demo01`` with the pulumi CLI in a shell.

Run from a project view (the project's files, a temporary ``stacks`` directory holding a
copy of the example stack file) so the test never writes into the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kubernetes import client

from sandboxes.engine import project_view
from tests.fixtures.cluster import KubeCluster

pytestmark = pytest.mark.engine
REPO = Path(__file__).resolve().parents[2]
SANDBOXCTL = str(Path(sys.executable).parent / "sandboxctl")


def _shell(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "PULUMI_BACKEND_URL")}
    return subprocess.run(["bash", "-c", f'set -e; eval "$({SANDBOXCTL} env)"; {script}'], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_pulumi_up_by_hand_on_the_example_stack(tmp_path: Path, kube_cluster: KubeCluster) -> None:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    shutil.copy(REPO / "stacks" / "Pulumi.sandbox-demo01.yaml", stacks)
    view = project_view(stacks)

    up = _shell("pulumi stack init sandbox-demo01 && pulumi up -s sandbox-demo01 --yes --skip-preview "
                "&& pulumi stack output -s sandbox-demo01 url", view)
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
    assert up.stdout.strip().splitlines()[-1] == "http://sandbox-demo01.sandboxes.localhost"
    assert "warning: using" not in up.stdout + up.stderr  # no plugin picked up from PATH

    core = client.CoreV1Api(kube_cluster.api_client())
    namespace = core.read_namespace("sandbox-demo01")
    assert namespace.metadata.labels["sandboxes.io/provider"] == "acme"

    down = _shell("pulumi destroy -s sandbox-demo01 --yes && pulumi stack rm -s sandbox-demo01 --yes "
                  "--preserve-config", view)
    assert down.returncode == 0, down.stdout[-3000:] + down.stderr[-3000:]
    assert (stacks / "Pulumi.sandbox-demo01.yaml").exists(), "--preserve-config keeps the stack file"
