"""Reading the settings ConfigMap mounted at the config directory.

The files are read again on every request: Kubernetes updates a mounted ConfigMap in
place (an atomic symlink swap), so a settings change shows on the next page load with
no restart. Every value is checked here against the shape the provisioner writes
(``SandboxSettings`` of ``src/sandboxes/spec.py``); a value that does not fit falls back
to the default instead of reaching the page, because a colour or a URL is rendered in
CSS and attribute contexts where HTML escaping alone is not enough.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MODULE_LABELS", "Config", "ConfigError", "load_config"]

SANDBOX_FILE = "sandbox.json"
SETTINGS_FILE = "settings.json"
INTEGRATIONS_FILE = "integrations.json"

MODULE_LABELS = {"msp": "MSP: Mobility Services", "cpo": "CPO: Charge Point Operations"}

# The spec's defaults (LookAndFeel in src/sandboxes/spec.py), repeated because this
# package must not import the provisioner.
DEFAULT_LIGHT = ("#0057b8", "#00a3e0")
DEFAULT_DARK = ("#4da3ff", "#7fd4f5")

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_ASSET = re.compile(r"^(https?://|/|assets/)[^\s\"'<>\\]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HTTP_URL = re.compile(r"^https?://[^\s\"'<>\\]+$")


class ConfigError(Exception):
    """A config file exists but cannot be used (bad JSON, wrong shape): the page says which."""


@dataclass(frozen=True)
class Config:
    slug: str = ""
    name: str = "Sandbox"
    description: str = ""
    modules: tuple[str, ...] = ()
    visible_modules: tuple[str, ...] = ()
    url: str = ""
    provider: str = ""
    show_banner: bool = True
    light: tuple[str, str] = DEFAULT_LIGHT
    dark: tuple[str, str] = DEFAULT_DARK
    logo_light: str | None = None
    logo_dark: str | None = None
    favicon: str | None = None
    self_sign_up: bool = False
    support: dict[str, str] = field(default_factory=dict)
    integrations: dict[str, bool] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)


def _read_json(path: Path) -> dict[str, Any] | None:
    """The file's JSON object, ``None`` when absent; ``ConfigError`` when unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ConfigError(f"{path.name}: cannot read: {err.strerror or err}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path.name}: not valid JSON ({err.msg} at line {err.lineno})") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{path.name}: expected a JSON object, got {type(value).__name__}")
    return value


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _colours(value: Any, default: tuple[str, str]) -> tuple[str, str]:
    data = _dict(value)
    primary, secondary = data.get("primary"), data.get("secondary")
    return (
        primary.lower() if isinstance(primary, str) and _HEX.fullmatch(primary) else default[0],
        secondary.lower() if isinstance(secondary, str) and _HEX.fullmatch(secondary) else default[1],
    )


def _asset(value: Any) -> str | None:
    return value if isinstance(value, str) and _ASSET.fullmatch(value) else None


def _modules(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(m for m in value if isinstance(m, str)))


def load_config(config_dir: Path) -> Config:
    """Everything the page shows, from the three files; missing files mean defaults."""
    sandbox = _read_json(config_dir / SANDBOX_FILE)
    settings = _read_json(config_dir / SETTINGS_FILE)
    integrations = _read_json(config_dir / INTEGRATIONS_FILE)
    missing = tuple(
        name
        for name, value in ((SANDBOX_FILE, sandbox), (SETTINGS_FILE, settings), (INTEGRATIONS_FILE, integrations))
        if value is None
    )
    sandbox, settings, integrations = sandbox or {}, settings or {}, integrations or {}

    modules = _modules(sandbox.get("modules"))
    selection = _dict(settings.get("product_selection")).get("visible_modules")
    visible = modules if selection is None else tuple(m for m in modules if m in _modules(selection))
    look = _dict(settings.get("look_and_feel"))
    banner = look.get("show_sandbox_banner", True)
    support_in = _dict(settings.get("support"))
    support: dict[str, str] = {}
    if company := _str(support_in.get("company")):
        support["company"] = company
    if (email := _str(support_in.get("email"))) and _EMAIL.fullmatch(email):
        support["email"] = email
    if phone := _str(support_in.get("phone")):
        support["phone"] = phone
    if (url := _str(support_in.get("url"))) and _HTTP_URL.fullmatch(url):
        support["url"] = url
    return Config(
        slug=_str(sandbox.get("slug")),
        name=_str(sandbox.get("name")) or "Sandbox",
        description=_str(sandbox.get("description")),
        modules=modules,
        visible_modules=visible,
        url=_str(sandbox.get("url")),
        provider=_str(sandbox.get("provider")),
        # Only an explicit false hides the banner: a malformed value keeps the warning visible.
        show_banner=banner is not False,
        light=_colours(look.get("light"), DEFAULT_LIGHT),
        dark=_colours(look.get("dark"), DEFAULT_DARK),
        logo_light=_asset(look.get("logo_light")),
        logo_dark=_asset(look.get("logo_dark")),
        favicon=_asset(look.get("favicon")),
        self_sign_up=_dict(settings.get("platform_access")).get("self_sign_up") is True,
        support=support,
        integrations={str(k): v is True for k, v in integrations.items()},
        missing=missing,
        settings=settings,
    )
