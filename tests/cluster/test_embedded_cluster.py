"""The embedded cluster's lifecycle on real processes: idempotent up, truthful status, restart, clean down."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from sandboxes import cluster as embedded
from sandboxes.cluster.embedded import cluster_dir
from tests.fixtures.cluster import require_toolchain

pytestmark = pytest.mark.engine


def _listening_beyond_loopback() -> list[str]:
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=False).stdout
    bad = []
    for line in out.splitlines():
        if any(name in line for name in ("kube-", "etcd", "kwok")):
            local = line.split()[3]
            if not local.startswith(("127.", "[::1]", "localhost")):
                bad.append(line)
    return bad


def test_up_status_restart_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_toolchain()
    monkeypatch.setenv("SANDBOXES_DATA_DIR", str(tmp_path / "data"))
    try:
        first = embedded.up(nodes=2)
        assert first.healthy and first.nodes_ready == 2 and first.version == "v1.34.4"
        assert set(first.processes) >= {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler",
                                        "kwok-controller"}
        assert not _listening_beyond_loopback()

        again = embedded.up(nodes=2)  # idempotent: the same cluster, nothing restarted
        assert again.server == first.server

        pid_file = cluster_dir() / "kwok" / "clusters" / "sandboxes" / "pids" / "kube-scheduler.pid"
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while embedded.status().processes.get("kube-scheduler") and time.monotonic() < deadline:
            time.sleep(0.2)
        broken = embedded.status()
        assert not broken.healthy
        assert "process kube-scheduler is not running" in broken.problems

        healed = embedded.up(nodes=2)
        assert healed.healthy and healed.processes["kube-scheduler"]
    finally:
        embedded.down()
    after = embedded.status()
    assert not after.exists and not after.processes
    assert not (cluster_dir() / "kwok").exists()
