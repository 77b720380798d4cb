"""``sandboxctl`` against the local service: commands, JSON output, exit codes."""

from __future__ import annotations

from pathlib import Path

from sandboxes.cli.output import ExitCode
from tests.cli.conftest import Cli


def test_lifecycle_with_json_output(cli: Cli, tmp_path: Path) -> None:
    created = cli.json("create", "--name", "Cli test", "-m", "cpo", "-m", "msp", "--data", "preconfigured")
    slug = created["sandbox"]["slug"]
    assert created["operation"]["status"] == "succeeded"
    shown = cli.json("show", slug)
    assert shown["status"] == "ready" and shown["provider_id"] is None  # local user: system-admin, prospect
    assert [s["slug"] for s in cli.json("list")["items"]] == [slug]

    cli("settings", "set", slug, "billing.invoicing=true", "look_and_feel.light.primary=#112233")
    settings = cli.json("settings", "get", slug)
    assert settings["billing"]["invoicing"] is True and settings["look_and_feel"]["light"]["primary"] == "#112233"
    patch = tmp_path / "s.yaml"
    patch.write_text("charge_cards:\n  msp_limits: true\n")
    cli("settings", "set", slug, "--file", str(patch))
    assert cli.json("settings", "get", slug)["charge_cards"]["msp_limits"] is True

    cli("update", slug, "--name", "Renamed")
    assert cli.json("show", slug)["name"] == "Renamed"
    creds = cli.json("credentials", slug)
    assert creds["api_secret"] and creds["url"].startswith("http://")

    ops = cli.json("ops", "list", "--sandbox", slug)
    assert len(ops) == 4 and all(o["status"] == "succeeded" for o in ops)
    assert cli.json("ops", "show", ops[-1]["id"])["kind"] == "up"
    assert "summary" in cli("ops", "logs", ops[-1]["id"])
    assert creds["api_secret"] not in cli("ops", "logs", ops[-1]["id"], "--output", "json")

    out = cli("delete", slug, "--confirm", "sandbox-nope00", code=ExitCode.USAGE)
    assert "confirm" in out
    cli("delete", slug, "--confirm", slug)
    cli("show", slug, code=ExitCode.NOT_FOUND)


def test_exit_codes_and_roles(cli: Cli) -> None:
    out = cli("create", "--name", "x", "-m", "bus", code=ExitCode.USAGE)
    assert "modules" in out
    cli("create", "--name", "x", "-m", "cpo", "--data", "copy", code=ExitCode.USAGE)
    cli("create", "--name", "theirs", "-m", "cpo", "--provider", "acme", "--for-provider", "globex",
        code=ExitCode.FORBIDDEN)
    slug = cli.json("create", "--name", "mine", "-m", "cpo", "--provider", "acme")["sandbox"]["slug"]
    assert cli.json("show", slug, "--provider", "acme")["provider_id"] == "acme"
    cli("show", slug, "--provider", "globex", code=ExitCode.NOT_FOUND)
    cli("create", "--name", "x", "-m", "cpo", "--provider", "acme", "--live-provider", "acme-live",
        code=ExitCode.FORBIDDEN)
    cli("settings", "set", slug, code=ExitCode.USAGE)
    cli("settings", "set", slug, "look_and_feel.light.primary=blue", code=ExitCode.USAGE)
    queued = cli.json("refresh", slug, "--no-wait")["operation"]["id"]
    out = cli("settings", "set", slug, "billing.invoicing=true", code=ExitCode.CONFLICT)
    assert queued in out or "in progress" in out
    cli("ops", "logs", queued, "--follow")


def test_demo_creates_then_reuses(cli: Cli) -> None:
    first = cli("demo")
    assert "sandboxctl credentials sandbox-" in first and "--confirm" in first
    again = cli("demo")
    assert "reusing" in again
    sandboxes = cli.json("list")["items"]
    assert len(sandboxes) == 1 and sandboxes[0]["data"] == "preconfigured"
    assert sorted(sandboxes[0]["modules"]) == ["cpo", "msp"]


def test_tokens_and_db_upgrade(cli: Cli) -> None:
    assert "revision 0002" in cli("db", "upgrade")
    issued = cli.json("tokens", "create", "--name", "ci", "--role", "provider-admin", "--provider", "acme")
    assert issued["token"].startswith("sbx_")
    cli("tokens", "create", "--name", "x", "--role", "provider-admin", code=ExitCode.USAGE)
    assert [t["id"] for t in cli.json("tokens", "list")] == [issued["id"]]
    assert "ci" in cli("tokens", "list") and issued["token"] not in cli("tokens", "list")
    assert "revoked" in cli("tokens", "revoke", issued["id"])
    assert cli.json("tokens", "list") == []
    assert cli.json("tokens", "list", "--all")[0]["revoked_at"]
    cli("tokens", "revoke", "no-such-id", code=ExitCode.NOT_FOUND)
