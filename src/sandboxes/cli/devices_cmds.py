"""``sandboxctl devices``: simulated vehicles, batteries and solar inverters of a sandbox.

The simulator runs inside the sandbox's namespace and is reachable from its workload
only. From a terminal the commands reach it either at ``--url`` (a simulator you run or
forwarded yourself) or, given a sandbox slug, through ``kubectl port-forward`` to the
``<slug>-devices`` Service: that needs a node that really runs the pod (the embedded
cluster's real node, or your own cluster); on simulated kwok nodes the forward fails
and the command says so.
"""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from sandboxes.cli.output import ExitCode, OutputFormat, console, fail, print_json
from sandboxes.devices import DeviceKind, DevicesClient, DevicesError, DeviceState, render_chart
from sandboxes.environment import resolve

devices_app = typer.Typer(help="Simulated devices of a sandbox (vehicles, batteries, solar inverters).",
                          no_args_is_help=True)

SandboxOpt = Annotated[str | None, typer.Option("--sandbox", "-s", help="Sandbox slug: reach its simulator by "
                                                "kubectl port-forward.")]
UrlOpt = Annotated[str | None, typer.Option("--url", envvar="SANDBOXES_DEVICES_URL",
                                            help="Simulator base URL, e.g. http://127.0.0.1:8080.")]
OutputOpt = Annotated[OutputFormat, typer.Option("--output", "-o")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _port_forward(slug: str) -> Iterator[str]:
    env = resolve()
    port = _free_port()
    cmd = [str(env.bin_dir / "kubectl"), "--kubeconfig", str(env.kubeconfig), "-n", slug, "port-forward",
           "--address", "127.0.0.1", f"svc/{slug}-devices", f"{port}:8080"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                err = (proc.stderr.read() if proc.stderr else "").strip()
                fail(f"cannot reach the device simulator of {slug}: {err or 'port-forward ended'} "
                     "(simulated kwok nodes run no pods: use a real node, or pass --url)", ExitCode.UNAVAILABLE)
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            fail(f"port-forward to {slug}-devices did not open within 15 s", ExitCode.UNAVAILABLE)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


@contextlib.contextmanager
def _client(sandbox: str | None, url: str | None) -> Iterator[DevicesClient]:
    if url:
        with DevicesClient(url) as client:
            yield client
        return
    if not sandbox:
        fail("say which simulator: --sandbox <slug> or --url <simulator URL>", ExitCode.USAGE)
    if not re.fullmatch(r"sandbox-[0-9a-z]{6}", sandbox or ""):
        fail(f"{sandbox!r} is not a sandbox slug (sandbox-xxxxxx)", ExitCode.USAGE)
    with _port_forward(sandbox or "") as base, DevicesClient(base) as client:
        yield client


def _call(action: Any) -> Any:
    try:
        return action()
    except DevicesError as err:
        code = {404: ExitCode.NOT_FOUND, 409: ExitCode.CONFLICT}.get(err.status, ExitCode.USAGE)
        fail(str(err), code if err.status < 500 else ExitCode.ERROR)
    except OSError as err:
        fail(f"device simulator unreachable: {err}", ExitCode.UNAVAILABLE)


def _state_json(state: DeviceState) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(state).items()}


@devices_app.command("create")
def create(
    kind: Annotated[str, typer.Argument(help="vehicle, battery or solar_inverter")],
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="How many (no limit).")] = 1,
    name_prefix: Annotated[str | None, typer.Option(help="Prefix of the devices' names.")] = None,
    sandbox: SandboxOpt = None,
    url: UrlOpt = None,
    output: OutputOpt = OutputFormat.TEXT,
) -> None:
    """Register devices of one kind; any number, computed lazily by the simulator."""
    if kind not in ("vehicle", "battery", "solar_inverter"):
        fail(f"unknown device kind {kind!r}: use vehicle, battery or solar_inverter", ExitCode.USAGE)
    with _client(sandbox, url) as client:
        created = _call(lambda: client.create(kind, count, name_prefix))  # type: ignore[arg-type]
    if output == OutputFormat.JSON:
        print_json(asdict(created))
        return
    shown = ", ".join(created.ids[:5]) + (" …" if created.count > 5 else "")
    console.print(f"created {created.count} {kind} device(s): {shown}")


@devices_app.command("list")
def list_devices(
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    cursor: Annotated[str | None, typer.Option(help="Cursor from a previous page.")] = None,
    sandbox: SandboxOpt = None,
    url: UrlOpt = None,
    output: OutputOpt = OutputFormat.TEXT,
) -> None:
    """One page of registered devices with their state now."""
    with _client(sandbox, url) as client:
        page = _call(lambda: client.list(kind=kind, limit=limit, cursor=cursor, with_state=True))  # type: ignore[arg-type]
    if output == OutputFormat.JSON:
        print_json({"items": [{"id": d.id, "kind": d.kind, "name": d.name,
                               "state": _state_json(d.state) if d.state else None} for d in page.items],
                    "next_cursor": page.next_cursor})
        return
    table = Table("id", "kind", "name", "status", "SoC %", "power kW")
    for item in page.items:
        st = item.state
        table.add_row(item.id, item.kind, item.name, st.status if st else "-",
                      f"{st.soc_pct:.1f}" if st and st.soc_pct is not None else "-",
                      f"{st.power_kw:.2f}" if st and st.power_kw is not None else "-")
    console.print(table)
    if page.next_cursor:
        console.print(f"more: --cursor {page.next_cursor}")


@devices_app.command("show")
def show(
    device_id: Annotated[str, typer.Argument(help="Device id, e.g. veh-1f2e3d537557.")],
    at: Annotated[datetime | None, typer.Option(help="UTC time to read the state at (default: now).")] = None,
    chart: Annotated[bool, typer.Option(help="Also draw the last 24 h.")] = True,
    sandbox: SandboxOpt = None,
    url: UrlOpt = None,
    output: OutputOpt = OutputFormat.TEXT,
) -> None:
    """A device's state (now or at --at) and a small text chart of its last 24 h."""
    when = at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at
    with _client(sandbox, url) as client:
        state = _call(lambda: client.get(device_id, at=when))
        series = None
        if chart:
            end = when or datetime.now(UTC)
            series = _call(lambda: client.series(device_id, start=end - timedelta(hours=24), end=end, step="15m"))
    if output == OutputFormat.JSON:
        print_json(_state_json(state))
        return
    table = Table(show_header=False, box=None)
    for key, value in _state_json(state).items():
        table.add_row(key, str(value))
    console.print(table)
    if series is not None:
        console.print(render_chart(series), highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(devices_app, name="devices")


__all__ = ["DeviceKind", "register"]
