"""A real ``sandbox_web`` process per test, on Debian's python3 when the machine has it.

Running it with ``/usr/bin/python3`` (not the project's venv) is the point: the image
carries only Debian's python3, so the tests prove the page needs nothing else.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

WORKLOAD_DIR = Path(__file__).resolve().parents[2] / "workload"
DEBIAN_PYTHON = "/usr/bin/python3"


def server_python() -> str:
    return DEBIAN_PYTHON if Path(DEBIAN_PYTHON).is_file() else sys.executable


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


class ConfigMapDir:
    """A config dir laid out the way the kubelet mounts a ConfigMap: files are symlinks
    through ``..data``, and an update swaps ``..data`` atomically to a new timestamped dir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._generation = 0
        self.files: dict[str, Any] = {}

    def write(self, changes: dict[str, Any]) -> None:
        """Like a ConfigMap update: every key is rewritten into a new generation."""
        self.files.update(changes)
        files = self.files
        self._generation += 1
        target = self.root / f"..2026_11_26_00_00_{self._generation:02d}.000000000"
        target.mkdir()
        for name, value in files.items():
            text = value if isinstance(value, str) else json.dumps(value, indent=2)
            (target / name).write_text(text, encoding="utf-8")
        tmp = self.root / "..data_tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(target.name)
        tmp.replace(self.root / "..data")
        for name in files:
            link = self.root / name
            if not link.is_symlink():
                link.unlink(missing_ok=True)
                link.symlink_to(f"..data/{name}")


class Server:
    def __init__(self, config_dir: Path, log: Path) -> None:
        self.config_dir = config_dir
        self.log = log
        env = {**os.environ, "PYTHONPATH": str(WORKLOAD_DIR), "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("SANDBOX_SETTINGS_DIR", None)
        self._log_file = log.open("w")
        self.proc = subprocess.Popen(
            [
                server_python(),
                *("-m", "sandbox_web", "--host", "127.0.0.1", "--port", "0", "--config-dir", str(config_dir)),
            ],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(config_dir.parent),
        )
        self.port = self._wait_for_port()

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            match = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.log.read_text())
            if match:
                return int(match.group(1))
            if self.proc.poll() is not None:
                raise RuntimeError(f"sandbox_web exited with {self.proc.returncode}: {self.log.read_text()}")
            time.sleep(0.05)
        raise RuntimeError(f"sandbox_web did not start: {self.log.read_text()}")

    def request(self, method: str, path: str, body: str | None = None) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode())
        finally:
            conn.close()

    def get(self, path: str = "/") -> Response:
        return self.request("GET", path)

    def stop(self) -> int:
        self.proc.terminate()
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._log_file.close()
        return code


SANDBOX = {
    "slug": "sandbox-a34g56",
    "name": "API Integration Test",
    "description": "Start/stop charge sessions via API.",
    "modules": ["cpo", "msp"],
    "url": "http://sandbox-a34g56.sandboxes.localhost",
    "provider": "acme",
}
INTEGRATIONS = {"erp": False, "roaming_hubs": False, "payments": False, "email_sms": False, "webhooks": False,
                "telemetry": False}


def settings(**look: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "look_and_feel": {
            "logo_light": None,
            "logo_dark": None,
            "favicon": None,
            "light": {"primary": "#0057b8", "secondary": "#00a3e0"},
            "dark": {"primary": "#4da3ff", "secondary": "#7fd4f5"},
            "show_sandbox_banner": True,
        },
        "product_selection": {"visible_modules": None},
        "platform_access": {"self_sign_up": False},
        "support": {"company": None, "email": None, "phone": None, "url": None},
        "charge_stations": {"advanced_tariffs": False, "bulk_operations": False, "custom_fees": False},
        "charge_cards": {"msp_limits": False, "msp_fees": False},
        "billing": {"invoicing": False},
        "roaming": {"sub_operators_enabled": False, "sub_operators": []},
        "feature_toggles": {},
    }
    base["look_and_feel"].update(look)
    return base


@pytest.fixture
def configmap(tmp_path: Path) -> ConfigMapDir:
    cm = ConfigMapDir(tmp_path / "etc-sandbox")
    cm.write({"sandbox.json": SANDBOX, "settings.json": settings(), "integrations.json": INTEGRATIONS})
    return cm


@pytest.fixture
def server(configmap: ConfigMapDir, tmp_path: Path) -> Iterator[Server]:
    srv = Server(configmap.root, tmp_path / "server.log")
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Any]:
    started: list[Server] = []

    def start(config_dir: Path) -> Server:
        srv = Server(config_dir, tmp_path / f"server-{len(started)}.log")
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


__all__ = ["INTEGRATIONS", "SANDBOX", "ConfigMapDir", "Server", "settings"]
