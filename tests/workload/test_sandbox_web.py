"""The default workload page, served by the real ``python3 -m sandbox_web`` process."""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import INTEGRATIONS, SANDBOX, WORKLOAD_DIR, ConfigMapDir, Server, server_python, settings

LINKS = {
    "Sandbox Settings": "/settings",
    "API Credentials": "/developers/credentials",
    "API Documentation": "/developers/docs",
    "Charge Station Simulator": "/simulator",
}


def css_var(body: str, name: str) -> list[str]:
    return re.findall(rf"--{name}: (#[0-9a-f]+);", body)


def test_healthz(server: Server) -> None:
    resp = server.get("/healthz")
    assert resp.status == 200
    assert resp.body.strip() == "ok"
    assert resp.headers["content-type"].startswith("text/plain")
    assert server.request("HEAD", "/healthz").status == 200


def test_page_shows_banner_name_modules_links_login_and_integrations(server: Server) -> None:
    resp = server.get("/")
    assert resp.status == 200
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    body = resp.body
    assert 'class="sandbox-banner"' in body
    assert "Sandbox mode" in body
    assert "<h1>API Integration Test" in body
    assert "sandbox-a34g56" in body
    assert "Start/stop charge sessions via API." in body
    assert "CPO: Charge Point Operations" in body
    assert "MSP: Mobility Services" in body
    for title, href in LINKS.items():
        assert f'<a href="{href}">{title}<span>' in body
    assert '<form method="post" action="/login">' in body
    assert 'type="password"' in body
    assert "does not authenticate" in body
    assert "External integrations are disabled" in body
    assert "<li>ERP (e.g. NetSuite): disabled</li>" in body
    assert "<li>Live roaming networks: disabled</li>" in body
    assert body.count(": disabled</li>") == len(INTEGRATIONS)


def test_look_and_feel_colours_light_and_dark(configmap: ConfigMapDir, server: Server) -> None:
    configmap.write(
        {
            "settings.json": settings(
                light={"primary": "#112233", "secondary": "#445566"},
                dark={"primary": "#AABBCC", "secondary": "#ddeeff"},
                logo_light="https://cdn.example.com/logo-light.svg",
                logo_dark="/assets/logo-dark.svg",
                favicon="assets/favicon.ico",
            )
        }
    )
    body = server.get("/").body
    assert css_var(body, "primary") == ["#112233", "#aabbcc"]
    assert css_var(body, "secondary") == ["#445566", "#ddeeff"]
    light_at, dark_at = body.index("--primary: #112233"), body.index("--primary: #aabbcc")
    assert body.index("@media (prefers-color-scheme: dark)") < dark_at and light_at < dark_at
    assert '<img src="https://cdn.example.com/logo-light.svg"' in body
    assert '<source media="(prefers-color-scheme: dark)" srcset="/assets/logo-dark.svg">' in body
    assert '<link rel="icon" href="assets/favicon.ico">' in body


def test_banner_hidden_only_when_setting_is_false(configmap: ConfigMapDir, server: Server) -> None:
    configmap.write({"settings.json": settings(show_sandbox_banner=False)})
    body = server.get("/").body
    assert "sandbox-banner\"" not in body.split("</style>", 1)[1]
    assert "Sandbox mode" not in body
    # A malformed value keeps the warning visible rather than hiding it.
    configmap.write({"settings.json": settings(show_sandbox_banner="no")})
    assert "Sandbox mode" in server.get("/").body


def test_settings_change_visible_without_restart(configmap: ConfigMapDir, server: Server) -> None:
    first = server.get("/").body
    assert "Sandbox mode" in first
    assert css_var(first, "primary")[0] == "#0057b8"
    pid = server.proc.pid
    # What the kubelet does when the ConfigMap changes: a new ..data directory, swapped atomically.
    configmap.write(
        {
            "settings.json": settings(show_sandbox_banner=False, light={"primary": "#ff0000", "secondary": "#00ff00"}),
            "sandbox.json": {**SANDBOX, "name": "Renamed Sandbox"},
        }
    )
    second = server.get("/")
    assert server.proc.pid == pid and server.proc.poll() is None
    assert "Sandbox mode" not in second.body
    assert css_var(second.body, "primary")[0] == "#ff0000"
    assert "<h1>Renamed Sandbox" in second.body
    assert second.headers["cache-control"] == "no-store"


def test_visible_modules_filter(configmap: ConfigMapDir, server: Server) -> None:
    data = settings()
    data["product_selection"] = {"visible_modules": ["msp"]}
    configmap.write({"settings.json": data})
    body = server.get("/").body
    assert "MSP: Mobility Services" in body
    assert "CPO: Charge Point Operations" not in body


HOSTILE = '<script>alert("x")</script>'


def test_every_value_is_escaped(configmap: ConfigMapDir, server: Server) -> None:
    hostile_settings: dict[str, Any] = settings(
        light={"primary": "red;}</style><script>alert(1)</script>", "secondary": "#abc"},
        logo_light="javascript:alert(1)",
        logo_dark='/logo.svg" onerror="alert(1)',
        favicon="https://x/\"><script>alert(1)</script>",
    )
    hostile_settings["support"] = {
        "company": HOSTILE,
        "email": "a@b.c",
        "phone": None,
        "url": "javascript:alert(1)",
    }
    configmap.write(
        {
            "sandbox.json": {
                **SANDBOX,
                "name": HOSTILE,
                "slug": '"><img src=x onerror=alert(1)>',
                "description": "</section><script>alert(2)</script>",
                "modules": ["msp", "<b>evil</b>"],
            },
            "settings.json": hostile_settings,
            "integrations.json": {**INTEGRATIONS, "<i>new</i>": False},
        }
    )
    for path in ("/", "/settings", "/developers/docs"):
        body = server.get(path).body
        assert "<script" not in body, path
        assert '" onerror="' not in body and "onerror=\"" not in body, path
        assert "<img src=x" not in body and "<b>evil" not in body and "<i>new" not in body, path
        assert "javascript:" not in body.split("<pre", 1)[0], path
    body = server.get("/").body
    assert html.escape(HOSTILE) in body
    # The invalid colour falls back to the default instead of reaching the CSS.
    assert css_var(body, "primary")[0] == "#0057b8"
    assert css_var(body, "secondary")[0] == "#abc"
    assert "<img " not in body  # no acceptable logo


def test_login_post_is_an_honest_placeholder(server: Server) -> None:
    resp = server.request("POST", "/login", body="email=a%40b.c&password=hunter2")
    assert resp.status == 501
    assert "Login is not functional" in resp.body
    assert "hunter2" not in resp.body
    assert "hunter2" not in server.log.read_text()
    assert server.request("POST", "/settings", body="x=1").status == 405


def test_dashboard_destinations_and_404(configmap: ConfigMapDir, server: Server) -> None:
    for title, href in LINKS.items():
        resp = server.get(href)
        assert resp.status == 200, href
        assert f"<h2>{title}</h2>" in resp.body
        assert "Sandbox mode" in resp.body
    settings_page = server.get("/settings").body
    assert "&quot;show_sandbox_banner&quot;: true" in settings_page
    missing = server.get("/nope?<x>")
    assert missing.status == 404
    assert "<x>" not in missing.body


def test_security_headers(server: Server) -> None:
    headers = server.get("/").headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


def test_missing_files_mean_defaults_and_broken_json_is_an_error(tmp_path: Path, start_server: Any) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    srv: Server = start_server(empty)
    body = srv.get("/").body
    assert "Sandbox mode" in body
    assert "<h1>Sandbox" in body
    assert "Not found in the config directory: sandbox.json, settings.json, integrations.json" in body
    (empty / "settings.json").write_text('{"look_and_feel": <broken>')
    resp = srv.get("/")
    assert resp.status == 500
    assert "settings.json: not valid JSON" in resp.body
    assert "<broken>" not in resp.body
    assert srv.get("/healthz").status == 200


def test_renders_the_configmap_the_stack_writes(tmp_path: Path, start_server: Any) -> None:
    """Contract: the exact ``data`` of components.workload's ConfigMap drives the page."""
    from components.workload import settings_data

    from sandboxes.spec import parse_spec

    spec = parse_spec(
        {
            "slug": "sandbox-zz9x01",
            "name": "Prospect <Demo>",
            "modules": ["msp", "cpo"],
            "settings": {
                "look_and_feel": {"light": {"primary": "#123456"}, "show_sandbox_banner": False},
                "product_selection": {"visible_modules": ["cpo"]},
            },
        }
    )
    cm = ConfigMapDir(tmp_path / "stack-cm")
    cm.write(settings_data(spec, "http://sandbox-zz9x01.example"))
    body = start_server(cm.root).get("/").body
    assert "<h1>Prospect &lt;Demo&gt;" in body
    assert "Sandbox mode" not in body
    assert css_var(body, "primary")[0] == "#123456"
    assert "CPO: Charge Point Operations" in body and "MSP: Mobility Services" not in body
    assert body.count(": disabled</li>") == 6
    assert "Not found in the config directory" not in body


def test_help_and_sigterm_exit_cleanly(server: Server) -> None:
    out = subprocess.run(
        [server_python(), "-m", "sandbox_web", "--help"],
        cwd=WORKLOAD_DIR,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert out.returncode == 0
    assert "--config-dir" in out.stdout and "--port" in out.stdout
    assert server.stop() == 0


def test_package_imports_nothing_from_the_provisioner() -> None:
    for path in (WORKLOAD_DIR / "sandbox_web").glob("*.py"):
        text = path.read_text()
        assert "sandboxes" not in re.findall(r"^\s*(?:from|import)\s+(\w+)", text, re.M), path


@pytest.mark.parametrize("colour", ["#fff", "#A1B2C3"])
def test_valid_short_and_upper_hex(configmap: ConfigMapDir, server: Server, colour: str) -> None:
    configmap.write({"settings.json": settings(light={"primary": colour, "secondary": "#000"})})
    assert css_var(server.get("/").body, "primary")[0] == colour.lower()
