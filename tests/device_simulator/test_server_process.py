"""The real entry point: ``python -m device_simulator serve`` in a subprocess, spoken to over TCP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from device_simulator.ids import device_id

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "device-simulator"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_subprocess_speaks_http() -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT), "SIMULATOR_PRESEED": "vehicle=2,solar_inverter=1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "device_simulator", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"],
        cwd=PACKAGE_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=1).json()
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else "server exited"
                assert time.monotonic() < deadline, "server did not start within 30 s"
                time.sleep(0.1)
        assert health["devices"] == {"vehicle": 2, "battery": 0, "solar_inverter": 1}
        dev = device_id("vehicle", 1)
        state = httpx.get(f"{base}/v1/devices/{dev}", params={"at": "2030-01-01T23:00:00Z"}).json()
        assert state["plugged_in"] is True and state["status"] == "charging"
        created = httpx.post(f"{base}/v1/devices", json={"kind": "battery", "count": 1}).json()
        assert created["ids"] == [device_id("battery", 0)]
        bad = httpx.get(f"{base}/v1/devices/{dev}", params={"at": "2200-01-01T00:00:00Z"})
        assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
