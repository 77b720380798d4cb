"""Shared output helpers of the CLI: JSON for scripts, Rich for people, exit codes."""

from __future__ import annotations

import json
import sys
from enum import IntEnum, StrEnum
from typing import Any

from rich.console import Console
from rich.markup import escape

console = Console()
err_console = Console(stderr=True)


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class ExitCode(IntEnum):
    """Exit codes scripts can rely on (documented in the README)."""

    OK = 0
    ERROR = 1
    CHANGES = 2  # reconcile: changes pending (plan) or applied (apply)
    USAGE = 64  # bad input: the message says what to fix
    NOT_FOUND = 66
    FORBIDDEN = 77
    CONFLICT = 75  # another operation holds the sandbox; retry later
    UNAVAILABLE = 69  # cluster, toolchain or API not reachable


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def fail(message: str, code: ExitCode = ExitCode.ERROR) -> None:
    err_console.print(f"[red]error:[/] {escape(message)}", highlight=False)
    raise SystemExit(int(code))
