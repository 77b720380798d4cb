"""``sandboxctl serve`` as a real process, and the CLI against it with --api-url/--token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandboxes.cli.output import ExitCode
from tests.cli.conftest import Cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(cli: Cli, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, **cli.env}
    proc = subprocess.Popen([sys.executable, "-c", "from sandboxes.cli import main; main()", "serve", "--port",
                             str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(f"server did not start: {proc.stdout.read().decode() if proc.stdout else ''}")
    yield url
    proc.terminate()
    proc.wait(10)


def test_cli_against_the_api(cli: Cli, server: str) -> None:
    admin = cli.json("tokens", "create", "--name", "sales", "--role", "system-admin")["token"]
    acme = cli.json("tokens", "create", "--name", "alice", "--provider", "acme")["token"]
    remote = ["--api-url", server, "--token", acme]
    created = cli.json("create", "--name", "Remote", "-m", "cpo", *remote)
    slug = created["sandbox"]["slug"]
    assert created["sandbox"]["provider_id"] == "acme" and created["operation"]["status"] == "succeeded"
    cli("settings", "set", slug, "billing.invoicing=true", *remote)
    assert cli.json("settings", "get", slug, *remote)["billing"]["invoicing"] is True
    assert cli.json("credentials", slug, *remote)["api_secret"]
    cli("show", slug, "--api-url", server, "--token", "sbx_wrong", code=ExitCode.FORBIDDEN)
    cli("create", "--name", "x", "-m", "cpo", "--live-provider", "l", *remote, code=ExitCode.FORBIDDEN)
    assert cli.json("list", "--api-url", server, "--token", admin)["total"] == 1
    events = cli("ops", "logs", created["operation"]["id"], "--output", "json", *remote)
    assert '"type": "operation-finished"' in events
    cli("delete", slug, "--confirm", slug, *remote)
    cli("show", slug, *remote, code=ExitCode.NOT_FOUND)
    cli("list", "--api-url", "http://127.0.0.1:1", "--token", acme, code=ExitCode.UNAVAILABLE)
