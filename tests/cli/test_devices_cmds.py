"""``sandboxctl devices`` against a real simulator process (``--url``), and its error paths."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sandboxes.cli import app

SIMULATOR = Path(__file__).resolve().parents[2] / "device-simulator"
runner = CliRunner()


@pytest.fixture(scope="module")
def simulator_url() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(SIMULATOR)}
    proc = subprocess.Popen([sys.executable, "-m", "device_simulator", "serve", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        else:
            pytest.fail("simulator did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_create_list_show_with_chart(simulator_url: str) -> None:
    created = runner.invoke(app, ["devices", "create", "vehicle", "-n", "3", "--url", simulator_url, "-o", "json"])
    assert created.exit_code == 0, created.output
    ids = json.loads(created.stdout)["ids"]
    assert len(ids) == 3 and all(i.startswith("veh-") for i in ids)

    listed = runner.invoke(app, ["devices", "list", "--url", simulator_url, "-o", "json"])
    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.stdout)["items"]
    assert {i["id"] for i in items} >= set(ids)
    assert all(i["state"]["soc_pct"] is not None for i in items if i["kind"] == "vehicle")

    shown = runner.invoke(app, ["devices", "show", ids[0], "--url", simulator_url, "--at", "2026-11-26T03:00:00"])
    assert shown.exit_code == 0, shown.output
    assert "plugged_in" in shown.stdout and "True" in shown.stdout  # 03:00 UTC: every car is plugged in
    assert any(ch in shown.stdout for ch in "▁▂▃▄▅▆▇█"), "the 24 h chart is drawn"


def test_unknown_kind_and_unknown_device_are_explained(simulator_url: str) -> None:
    bad_kind = runner.invoke(app, ["devices", "create", "toaster", "--url", simulator_url])
    assert bad_kind.exit_code == 64 and "vehicle, battery or solar_inverter" in bad_kind.output
    missing = runner.invoke(app, ["devices", "show", "veh-000000000000", "--url", simulator_url])
    assert missing.exit_code in (64, 66), missing.output


def test_a_target_is_required() -> None:
    result = runner.invoke(app, ["devices", "list"], env={"SANDBOXES_DEVICES_URL": ""})
    assert result.exit_code == 64 and "--sandbox" in result.output
