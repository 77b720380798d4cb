"""Contract: the device simulator Deployment's command starts the real simulator and its readiness path answers.

The command and probe are read from the Deployment the program registers (under mocks)
and run as a local process; only the listen address is overridden (appended, so the
declared arguments themselves are parsed), because port 8080 may be taken on the test host.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .harness import base_spec, render

SIMULATOR = Path(__file__).resolve().parents[2] / "device-simulator"

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_simulator_starts_with_the_declared_command_and_is_ready() -> None:
    r = render(base_spec(data="preconfigured"))
    container = r.named("kubernetes:apps/v1:Deployment", "sandbox-abc123-devices").inputs["spec"]["template"][
        "spec"]["containers"][0]
    command = container["command"]
    assert command[0] == "python3"
    probe = container["readinessProbe"]["httpGet"]
    assert probe["port"] == container["ports"][0]["containerPort"]
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(SIMULATOR),
           **{e["name"]: e["value"] for e in container["env"]}}
    proc = subprocess.Popen([sys.executable, *command[1:], "--host", "127.0.0.1", "--port", str(port)],
                            cwd=SIMULATOR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe['path']}", timeout=2) as resp:
                    status = resp.status
                    break
            except OSError:
                time.sleep(0.2)
        assert status == 200, f"simulator not ready (exit {proc.poll()})"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
