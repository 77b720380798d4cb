"""``sandboxctl cluster up|down|status`` and ``sandboxctl env``."""

from __future__ import annotations

import shlex
import time
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sandboxes import cluster as embedded
from sandboxes.cli.output import ExitCode, OutputFormat, console, err_console, fail, print_json
from sandboxes.cluster import realnode
from sandboxes.environment import resolve

cluster_app = typer.Typer(help="The embedded Kubernetes control plane (etcd, kube-apiserver, kwok), no Docker needed.",
                          no_args_is_help=True)


def _progress(started: float) -> embedded.Progress:
    def say(message: str) -> None:
        err_console.print(f"[dim]{time.monotonic() - started:6.1f}s[/] {escape(message)}", highlight=False)

    return say


@cluster_app.command("up")
def cluster_up(
    nodes: Annotated[int, typer.Option(min=1, max=500, help="Simulated (kwok) nodes.")] = embedded.DEFAULT_NODES,
    real_node: Annotated[bool, typer.Option(
        "--real-node",
        help="Also run one real node (containerd, kubelet, CNI bridge, kube-proxy, CoreDNS): Linux, root.",
    )] = False,
) -> None:
    """Start the embedded cluster (idempotent: a healthy cluster is left as it is)."""
    started = time.monotonic()
    try:
        st = embedded.up(nodes=nodes, progress=_progress(started))
    except embedded.ClusterError as err:
        fail(str(err), ExitCode.UNAVAILABLE)
        return
    console.print(f"[green]cluster up[/] {st.server}  kubeconfig {st.kubeconfig}")
    if real_node or realnode.enabled():
        # A real node started before is restarted (its dead processes) without asking again.
        try:
            realnode.up(progress=_progress(started))
        except realnode.RealNodeError as err:
            fail(f"real node not started (the kwok cluster keeps running): {err}", ExitCode.UNAVAILABLE)
            return
        console.print(f"[green]real node up[/] {realnode.NODE_NAME} (label {realnode.NODE_LABEL})")
    console.print('use it from a shell: eval "$(sandboxctl env)" && kubectl get nodes')


@cluster_app.command("down")
def cluster_down() -> None:
    """Stop every process of the embedded cluster and remove its state."""
    started = time.monotonic()
    removed = embedded.down(progress=_progress(started))
    console.print("cluster removed" if removed else "no embedded cluster was there")


@cluster_app.command("status")
def cluster_status(
    output: Annotated[OutputFormat, typer.Option("--output", "-o")] = OutputFormat.TEXT,
) -> None:
    """Tell the truth about the cluster: API reachable, nodes Ready, processes alive. Exit 69 if unhealthy."""
    st = embedded.status()
    real = realnode.status(api_reachable=st.api_reachable)
    if output == OutputFormat.JSON:
        data = st.as_dict()
        if real.enabled:
            data["real_node"] = real.as_dict()
        print_json(data)
    else:
        table = Table(show_header=False, box=None)
        table.add_row("healthy", "[green]yes[/]" if st.healthy else "[red]no[/]")
        table.add_row("API", f"{st.server or '-'} ({st.version or 'unreachable'})")
        table.add_row("nodes Ready", f"{st.nodes_ready}/{st.nodes_total}")
        for name, alive in st.processes.items():
            table.add_row(f"process {name}", "running" if alive else "[red]stopped[/]")
        if real.enabled:
            table.add_row("real node", f"{realnode.NODE_NAME}: " + ("[green]Ready[/]" if real.node_ready
                                                                   else "[red]not Ready[/]"))
            for name, alive in real.processes.items():
                table.add_row(f"  node process {name}", "running" if alive else "[red]stopped[/]")
            table.add_row(f"  bridge {realnode.BRIDGE}", "present" if real.bridge else "[red]missing[/]")
        table.add_row("kubeconfig", str(st.kubeconfig))
        console.print(table)
        for problem in st.problems + real.problems:
            err_console.print(f"[yellow]•[/] {problem}")
    if not st.healthy or (real.enabled and not real.healthy):
        raise typer.Exit(int(ExitCode.UNAVAILABLE))


def env_command(
    shell: Annotated[str, typer.Option(help="Syntax of the exports: sh (bash, zsh) or fish.")] = "sh",
) -> None:
    """Print shell exports for pulumi and kubectl against the embedded defaults: eval "$(sandboxctl env)".

    A KUBECONFIG, PULUMI_BACKEND_URL or PULUMI_CONFIG_PASSPHRASE[_FILE] already set in the
    environment is kept as it is.
    """
    environment = resolve()
    for key, value in environment.exports().items():
        if shell == "fish":
            typer.echo(f"set -gx {key} {shlex.quote(value)};")
        else:
            typer.echo(f"export {key}={shlex.quote(value)}")


def register(app: typer.Typer) -> None:
    app.add_typer(cluster_app, name="cluster")
    app.command("env")(env_command)
