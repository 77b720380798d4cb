"""``sandboxctl``: the command-line shell over the project's service layer.

Each command group lives in its own module and registers itself on ``app``; this
module only assembles them, so that one group's imports never slow or break another.
"""

from __future__ import annotations

import typer

from sandboxes.cli import cluster_cmds, devices_cmds, reconcile_cmds, sandbox_cmds

app = typer.Typer(
    name="sandboxctl",
    help="Provision and manage isolated sandboxes of the e-mobility platform (one Pulumi stack each).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for group in (cluster_cmds, sandbox_cmds, reconcile_cmds, devices_cmds):
    group.register(app)


def main() -> None:
    app()
