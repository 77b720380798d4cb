"""HTML of the sandbox pages, built by hand from escaped values.

No template engine: the image carries only Debian's ``python3``. Every value from the
config passes through ``_e`` (``html.escape`` with quotes) before it reaches the page;
colours and URLs were already restricted to safe shapes by ``config.load_config``
because CSS and ``href``/``src`` contexts need more than HTML escaping.
"""

from __future__ import annotations

import json
from html import escape

from sandbox_web.config import MODULE_LABELS, Config

__all__ = ["DASHBOARD_LINKS", "error_page", "login_page", "placeholder_page"]

# Seed 000, "Accessing and Using a Sandbox", step 4: the dashboard's quick links.
DASHBOARD_LINKS: tuple[tuple[str, str, str], ...] = (
    ("Sandbox Settings", "/settings", "Configure the look, feel, and features of this specific sandbox."),
    ("API Credentials", "/developers/credentials", "Start your integration with pre-created API keys."),
    ("API Documentation", "/developers/docs", "Explore our APIs."),
    (
        "Charge Station Simulator",
        "/simulator",
        "Run a virtual charging station in your browser to test CPO flows.",
    ),
)

INTEGRATION_LABELS = {
    "erp": "ERP (e.g. NetSuite)",
    "roaming_hubs": "Live roaming networks",
    "payments": "Payment providers",
    "email_sms": "E-mail and SMS delivery",
    "webhooks": "Outgoing webhooks",
    "telemetry": "Telemetry export",
}

BANNER_BLUE = "#1565c0"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _style(cfg: Config) -> str:
    # Colours are validated hex strings (config._colours); nothing else is interpolated here.
    return f"""
:root {{ --primary: {cfg.light[0]}; --secondary: {cfg.light[1]}; --banner: {BANNER_BLUE};
  --bg: #f6f8fb; --fg: #14202e; --card: #ffffff; --muted: #5b6b7d; color-scheme: light dark; }}
@media (prefers-color-scheme: dark) {{
  :root {{ --primary: {cfg.dark[0]}; --secondary: {cfg.dark[1]};
    --bg: #0f1722; --fg: #e6edf5; --card: #182334; --muted: #9fb0c3; }}
}}
* {{ box-sizing: border-box; }}
body {{ margin: 0; font-family: system-ui, sans-serif; background: var(--bg); color: var(--fg); }}
.sandbox-banner {{ background: var(--banner); color: #fff; text-align: center; padding: .5rem 1rem;
  font-weight: 600; letter-spacing: .02em; }}
header {{ display: flex; align-items: center; gap: 1rem; padding: 1rem 2rem;
  border-bottom: 4px solid var(--primary); background: var(--card); }}
header img {{ max-height: 48px; }}
header h1 {{ margin: 0; font-size: 1.4rem; color: var(--primary); }}
main {{ max-width: 60rem; margin: 0 auto; padding: 1.5rem 2rem; display: grid; gap: 1.5rem; }}
section {{ background: var(--card); border-radius: 8px; padding: 1rem 1.5rem;
  border-left: 4px solid var(--secondary); }}
h2 {{ margin-top: 0; font-size: 1.1rem; }}
.muted {{ color: var(--muted); }}
.links {{ list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr));
  gap: 1rem; }}
.links a {{ display: block; padding: .75rem 1rem; border-radius: 6px; border: 1px solid var(--secondary);
  color: var(--primary); text-decoration: none; font-weight: 600; }}
.links span {{ display: block; font-weight: 400; color: var(--muted); font-size: .9rem; }}
label {{ display: block; margin: .5rem 0 .2rem; }}
input {{ width: 100%; max-width: 22rem; padding: .4rem; }}
button {{ margin-top: .75rem; background: var(--primary); color: #fff; border: 0; border-radius: 4px;
  padding: .5rem 1.2rem; font-weight: 600; }}
.module {{ display: inline-block; margin-right: .5rem; padding: .1rem .6rem; border-radius: 999px;
  background: var(--secondary); color: #fff; font-size: .85rem; }}
pre {{ overflow: auto; }}
"""


def _head(cfg: Config, title: str) -> str:
    icon = f'<link rel="icon" href="{_e(cfg.favicon)}">' if cfg.favicon else ""
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title>{icon}<style>{_style(cfg)}</style></head><body>"
    )


def _banner(cfg: Config) -> str:
    if not cfg.show_banner:
        return ""
    return (
        '<div class="sandbox-banner" role="status" id="sandbox-banner">Sandbox mode: '
        "a safe, isolated test environment. Nothing here affects production.</div>"
    )


def _logo(cfg: Config) -> str:
    if not cfg.logo_light and not cfg.logo_dark:
        return ""
    light = cfg.logo_light or cfg.logo_dark
    dark = f'<source media="(prefers-color-scheme: dark)" srcset="{_e(cfg.logo_dark)}">' if cfg.logo_dark else ""
    return f'<picture>{dark}<img src="{_e(light)}" alt="{_e(cfg.name)} logo"></picture>'


def _header(cfg: Config) -> str:
    slug = f' <span class="muted">({_e(cfg.slug)})</span>' if cfg.slug else ""
    return f"<header>{_logo(cfg)}<h1>{_e(cfg.name)}{slug}</h1></header>"


def _modules(cfg: Config) -> str:
    if not cfg.visible_modules:
        return '<p class="muted">No product modules are visible in this sandbox.</p>'
    items = "".join(
        f'<span class="module" data-module="{_e(m)}">{_e(MODULE_LABELS.get(m, m))}</span>' for m in cfg.visible_modules
    )
    return f'<p id="modules">{items}</p>'


def _integrations(cfg: Config) -> str:
    rows = "".join(
        f"<li>{_e(INTEGRATION_LABELS.get(name, name))}: "
        f"{'<strong>enabled (not allowed in a sandbox)</strong>' if on else 'disabled'}</li>"
        for name, on in sorted(cfg.integrations.items())
    )
    return (
        '<section id="integrations"><h2>External integrations are disabled</h2>'
        "<p>Integrations with production third-party systems (such as NetSuite or live roaming networks) "
        "are permanently disabled in a sandbox. Sandbox data is never synced to production.</p>"
        f"<ul>{rows}</ul></section>"
    )


def _support(cfg: Config) -> str:
    if not cfg.support:
        return ""
    parts = []
    if "company" in cfg.support:
        parts.append(f"<li>{_e(cfg.support['company'])}</li>")
    if "email" in cfg.support:
        parts.append(f'<li><a href="mailto:{_e(cfg.support["email"])}">{_e(cfg.support["email"])}</a></li>')
    if "phone" in cfg.support:
        parts.append(f"<li>{_e(cfg.support['phone'])}</li>")
    if "url" in cfg.support:
        parts.append(f'<li><a href="{_e(cfg.support["url"])}" rel="noopener">{_e(cfg.support["url"])}</a></li>')
    return f'<section id="support"><h2>Support</h2><ul>{"".join(parts)}</ul></section>'


def _warnings(cfg: Config) -> str:
    if not cfg.missing:
        return ""
    names = ", ".join(_e(n) for n in cfg.missing)
    return (
        '<section id="config-warning"><p class="muted">'
        f"Not found in the config directory: {names} (defaults shown).</p></section>"
    )


def login_page(cfg: Config, notice: str = "") -> str:
    """The sandbox's front page: banner, branding, login form, dashboard links, integrations note."""
    links = "".join(
        f'<li><a href="{_e(href)}">{_e(title)}<span>{_e(text)}</span></a></li>' for title, href, text in DASHBOARD_LINKS
    )
    description = f"<p>{_e(cfg.description)}</p>" if cfg.description else ""
    sign_up = '<p><a href="/signup">Sign up</a> (self sign-up is enabled)</p>' if cfg.self_sign_up else ""
    notice_html = f'<p role="alert"><strong>{_e(notice)}</strong></p>' if notice else ""
    return (
        _head(cfg, f"{cfg.name} · Sandbox")
        + _banner(cfg)
        + _header(cfg)
        + "<main>"
        + f'<section id="about">{description}{_modules(cfg)}</section>'
        + '<section id="login"><h2>Log in</h2>'
        + notice_html
        + "<p class=\"muted\">Users of the parent production account log in with their production credentials. "
        "This default workload page does not authenticate: the form below is a placeholder and "
        "signs nobody in.</p>"
        + '<form method="post" action="/login"><label for="email">E-mail</label>'
        '<input id="email" name="email" type="email" autocomplete="username">'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password">'
        '<button type="submit">Log in</button></form>'
        + sign_up
        + "</section>"
        + f'<section id="dashboard"><h2>Dashboard</h2><ul class="links">{links}</ul></section>'
        + _integrations(cfg)
        + _support(cfg)
        + _warnings(cfg)
        + "</main></body></html>\n"
    )


def placeholder_page(cfg: Config, title: str, text: str) -> str:
    """One of the dashboard's destinations: named, explained, and honest that it is a placeholder."""
    body = (
        f"<section><h2>{_e(title)}</h2><p>{_e(text)}</p>"
        "<p class=\"muted\">This is the default workload: the real page belongs to the platform image.</p>"
    )
    if title == "Sandbox Settings":
        settings = json.dumps(cfg.settings, indent=2, sort_keys=True)
        body += (
            "<p>Settings in effect (read from the sandbox's settings ConfigMap; change them through the "
            f"sandbox's spec):</p><pre id=\"settings\">{_e(settings)}</pre>"
        )
    body += '<p><a href="/">Back to the dashboard</a></p></section>'
    return _head(cfg, f"{title} · {cfg.name}") + _banner(cfg) + _header(cfg) + f"<main>{body}</main></body></html>\n"


def error_page(title: str, detail: str) -> str:
    """Shown when the config cannot be used: the banner stays, since this is still a sandbox."""
    cfg = Config()
    return (
        _head(cfg, title)
        + _banner(cfg)
        + f"<main><section><h2>{_e(title)}</h2><p>{_e(detail)}</p></section></main></body></html>\n"
    )
