"""``python -m sandboxes.toolchain build``: what ``make toolchain`` runs.

Kept free of the CLI's dependencies beyond Rich so that it can run before anything
else of the project works.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from sandboxes.paths import cache_dir, toolchain_bin_dir
from sandboxes.toolchain.build import (
    BuildContext,
    ToolchainError,
    bundle_language_host,
    obtain,
    register_plugins,
    selected,
)
from sandboxes.toolchain.pins import load_pins


def _log_path() -> Path:
    logs = cache_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / f"toolchain-{datetime.now():%Y%m%d-%H%M%S}.log"
    latest = logs / "toolchain-latest.log"
    latest.unlink(missing_ok=True)
    latest.symlink_to(path.name)
    return path


def build(groups: list[str], rebuild: list[str]) -> int:
    console = Console(stderr=True)
    pins = load_pins()
    log = _log_path()
    log.touch()
    ctx = BuildContext(pins=pins, log_path=log)
    started = time.monotonic()
    todo = selected(groups, pins)
    console.print(f"[bold]toolchain[/] cache {cache_dir()}  log {log}")
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=False
    ) as progress:
        outcomes = {}
        for component in todo:
            task = progress.add_task(f"{component.name} {component.version}", total=1)
            try:
                outcome = obtain(component, ctx, rebuild=component.name in rebuild or "all" in rebuild)
            except ToolchainError as err:
                progress.update(task, description=f"[red]{component.name} {component.version} failed")
                progress.stop()
                console.print(f"[red]error:[/] {err}")
                return 1
            outcomes[component.name] = outcome
            where = {"cached": "[dim]cached", "built": "[green]built", "system": "[cyan]using installed"}[
                outcome.source
            ]
            shown = next(iter(outcome.paths.values()))
            progress.update(
                task, completed=1,
                description=f"{component.name} {component.version}: {where}[/] "
                + (str(shown) if outcome.source == "system" else ""),
            )
        task = progress.add_task("python language host", total=1)
        progress.update(task, completed=1, description=f"python language host: {bundle_language_host(outcomes)}")
        task = progress.add_task("pulumi plugin cache", total=1)
        try:
            installed = register_plugins(ctx, pins)
        except ToolchainError as err:
            progress.stop()
            console.print(f"[red]error:[/] {err}")
            return 1
        progress.update(task, completed=1, description=f"pulumi plugin cache: {', '.join(installed) or 'up to date'}")
    console.print(f"[bold green]toolchain ready[/] in {time.monotonic() - started:.1f}s: {toolchain_bin_dir()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.toolchain")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="find or build every pinned component")
    b.add_argument("--node", action="store_true", help="also build the real-node components (kubelet, kube-proxy)")
    b.add_argument("--rebuild", action="append", default=[], metavar="COMPONENT", help="force a rebuild ('all')")
    sub.add_parser("bin-dir", help="print the directory to put first on PATH")
    args = parser.parse_args(argv)
    if args.command == "bin-dir":
        print(toolchain_bin_dir())
        return 0
    return build(["core", "node"] if args.node else ["core"], args.rebuild)


if __name__ == "__main__":
    sys.exit(main())
