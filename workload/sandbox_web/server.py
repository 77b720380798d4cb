"""The HTTP server: standard library ``http.server``, one thread per request.

Why not a framework: the image must run on Debian's ``python3`` with nothing installed
from PyPI, and the page is a handful of routes. The config directory is read on every
request (see ``config``), so the process never needs a restart for a settings change.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType

from sandbox_web import __version__
from sandbox_web.config import ConfigError, load_config
from sandbox_web.page import DASHBOARD_LINKS, error_page, login_page, placeholder_page

__all__ = ["SandboxServer", "main"]

MAX_FORM_BYTES = 64 * 1024
_PLACEHOLDERS = {href: (title, text) for title, href, text in DASHBOARD_LINKS}
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # Inline style only; images (logos) from this origin or http(s); forms post back here.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: http: data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], config_dir: Path) -> None:
        self.config_dir = config_dir
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    server: SandboxServer
    server_version = f"sandbox-web/{__version__}"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def _send(self, status: HTTPStatus, body: str, content_type: str = "text/html; charset=utf-8") -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in _SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _route(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._send(HTTPStatus.OK, "ok\n", "text/plain; charset=utf-8")
            return
        if path not in ("/", "/index.html", *_PLACEHOLDERS):
            self._send(HTTPStatus.NOT_FOUND, error_page("Not found", f"There is no page at {path}."))
            return
        try:
            cfg = load_config(self.server.config_dir)
        except ConfigError as err:
            self._send(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                error_page("Sandbox configuration unreadable", f"{err} (in {self.server.config_dir})"),
            )
            return
        if path in _PLACEHOLDERS:
            title, text = _PLACEHOLDERS[path]
            self._send(HTTPStatus.OK, placeholder_page(cfg, title, text))
        else:
            self._send(HTTPStatus.OK, login_page(cfg))

    def do_GET(self) -> None:
        self._route()

    def do_HEAD(self) -> None:
        self._route()

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != "/login":
            self._send(HTTPStatus.METHOD_NOT_ALLOWED, error_page("Method not allowed", "Only /login takes a POST."))
            return
        # Drain (bounded) and discard the form: credentials are never looked at, stored or logged.
        try:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_FORM_BYTES)
        except ValueError:
            length = 0
        if length > 0:
            self.rfile.read(length)
        try:
            cfg = load_config(self.server.config_dir)
        except ConfigError as err:
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, error_page("Sandbox configuration unreadable", str(err)))
            return
        notice = "Login is not functional in the default workload page: nobody was signed in."
        self._send(HTTPStatus.NOT_IMPLEMENTED, login_page(cfg, notice=notice))


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m sandbox_web",
        description="Serve a sandbox's login/dashboard page from its settings ConfigMap.",
    )
    parser.add_argument("--host", default=os.environ.get("SANDBOX_WEB_HOST", "0.0.0.0"), help="bind address")
    parser.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=Path(os.environ.get("SANDBOX_SETTINGS_DIR", "/etc/sandbox")),
        help="directory of sandbox.json, settings.json, integrations.json (re-read on every request)",
    )
    parser.add_argument("--version", action="version", version=f"sandbox_web {__version__}")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    server = SandboxServer((args.host, args.port), args.config_dir)

    def _stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() blocks until serve_forever returns: call it from another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    host, port = server.server_address[:2]
    sys.stderr.write(f"sandbox_web {__version__} listening on {host!s}:{port} (config {args.config_dir})\n")
    sys.stderr.flush()
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0
