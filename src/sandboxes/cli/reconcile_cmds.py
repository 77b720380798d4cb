"""``sandboxctl reconcile``, ``sandboxctl drift`` and ``sandboxctl export operator``.

The shell over ``sandboxes.reconcile``: it parses options, renders plans and progress
with Rich (or JSON for machines) and maps results to exit codes CI can branch on:
0 nothing to do, 2 changes pending (``--plan``) or applied (``--apply``), 1 an error
(a bad stack file, a failed operation, an unreachable backend). Other problems with
the command line itself exit 64.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live
from rich.table import Table

from sandboxes import reconcile
from sandboxes.cli.output import ExitCode, OutputFormat, console, err_console, fail, print_json
from sandboxes.reconcile import Action, DriftReport, Outcome, Plan, PlanOptions

ACTION_STYLE = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.DESTROY: "red",
    Action.UNCHANGED: "dim",
    Action.KEEP: "magenta",
    Action.ERROR: "bold red",
}
STATUS_STYLE = {"waiting": "dim", "running": "cyan", "succeeded": "green", "failed": "bold red", "skipped": "magenta"}

DirOpt = Annotated[Path, typer.Option("--dir", help="Directory of Pulumi.<slug>.yaml stack files.")]
OutputOpt = Annotated[OutputFormat, typer.Option("--output", "-o", help="text for people, json for machines.")]
ParallelOpt = Annotated[int, typer.Option("--parallel", "-p", min=1, max=64,
                                          help="Engine operations at once (one pulumi process each).")]
LedgerOpt = Annotated[Path | None, typer.Option(
    "--ledger", help="Ledger file (default: $SANDBOXES_DATA_DIR/reconcile/<hash of dir and backend>.json); "
    "point it at a cached path in CI.")]


def _directory(path: Path) -> Path:
    if not path.is_dir():
        fail(f"{path} is not a directory of stack files: pass --dir", ExitCode.USAGE)
    return path.resolve()


def _plan_exit(plan: Plan) -> ExitCode:
    if plan.has_errors:
        return ExitCode.ERROR
    return ExitCode.CHANGES if plan.changes else ExitCode.OK


def _apply_exit(plan: Plan, outcomes: list[Outcome]) -> ExitCode:
    if plan.has_errors or any(o.status != "succeeded" for o in outcomes):
        return ExitCode.ERROR
    return ExitCode.CHANGES if outcomes else ExitCode.OK


def _render_plan(plan: Plan, show_unchanged: bool) -> None:
    table = Table(title=f"reconcile {plan.directory} (owner {plan.owner})", title_justify="left")
    table.add_column("sandbox")
    table.add_column("action")
    table.add_column("reason")
    table.add_column("detail", overflow="fold")
    hidden = 0
    for item in plan.items:
        if item.action is Action.UNCHANGED and not show_unchanged:
            hidden += 1
            continue
        style = ACTION_STYLE[item.action]
        table.add_row(item.slug, f"[{style}]{item.action.value}[/]", item.reason.value, item.detail)
    if table.row_count:
        console.print(table)
    if hidden:
        console.print(f"[dim]{hidden} unchanged (pass --show-unchanged to list them)[/]")
    for problem in plan.problems:
        err_console.print(f"[red]problem:[/] {problem.path}: {problem.reason}", highlight=False, soft_wrap=True)
    for item in plan.expiring_soon:
        expires = item.expires_at.isoformat() if item.expires_at else "?"
        console.print(f"[yellow]expires within 24 h:[/] {item.slug} at {expires}", highlight=False, soft_wrap=True)
    counts = plan.counts()
    console.print(", ".join(f"{n} {action}" for action, n in counts.items() if n) or "no stack files")


class _LiveStatus:
    """A table of per-sandbox status redrawn as engine events arrive (thread-safe)."""

    def __init__(self, plan: Plan) -> None:
        self._lock = threading.Lock()
        self._rows = {item.slug: ("waiting", item.action.value, "") for item in plan.changes}
        self._actions = {item.slug: item.action for item in plan.changes}

    def update(self, slug: str, status: str, detail: str) -> None:
        with self._lock:
            self._rows[slug] = (status, self._actions[slug].value, detail)

    def __rich__(self) -> Table:
        table = Table(title="apply", title_justify="left")
        for column in ("sandbox", "action", "status", "detail"):
            table.add_column(column, overflow="fold")
        with self._lock:
            for slug, (status, action, detail) in self._rows.items():
                table.add_row(slug, action, f"[{STATUS_STYLE.get(status, '')}]{status}[/]", detail)
        return table


def reconcile_cmd(
    directory: DirOpt = Path("stacks"),
    plan_only: Annotated[bool, typer.Option("--plan/--apply", help="Only show the plan (default), or carry it out.")]
    = True,
    prune: Annotated[bool, typer.Option("--prune", help="Destroy sandboxes of this directory whose file is gone "
                                        "or that expired.")] = False,
    parallel: ParallelOpt = 4,
    drift: Annotated[bool, typer.Option("--drift", help="Also check unchanged stacks for drift (one refresh "
                                        "preview each); drifted ones are planned for update.")] = False,
    show_unchanged: Annotated[bool, typer.Option("--show-unchanged", help="List unchanged sandboxes too.")] = False,
    output: OutputOpt = OutputFormat.TEXT,
    ledger_path: LedgerOpt = None,
) -> None:
    """Bring the sandboxes of a directory of stack files in line with it (GitOps).

    Exit codes: 0 nothing to do, 2 changes pending (--plan) or applied (--apply), 1 error.
    """
    stacks_dir = _directory(directory)
    engine, backend = reconcile.open_engine(stacks_dir)
    ledger = reconcile.open_ledger(stacks_dir, backend, ledger_path)
    owner = reconcile.dir_owner(stacks_dir)
    try:
        plan = reconcile.build_plan(stacks_dir, engine, ledger, owner,
                                    PlanOptions(prune=prune, detect_drift=drift, parallel=parallel))
    except reconcile.ReconcileError as err:
        fail(str(err), ExitCode.ERROR)
        return
    if plan_only:
        code = _plan_exit(plan)
        if output is OutputFormat.JSON:
            print_json({"mode": "plan", **plan.to_json(), "exit_code": int(code)})
        else:
            _render_plan(plan, show_unchanged)
        raise typer.Exit(int(code))

    needs_force = any(item.reason is reconcile.Reason.DRIFT for item in plan.changes)
    remediator = reconcile.open_engine(stacks_dir, force_conflicts=True)[0] if needs_force else None
    if output is OutputFormat.JSON:
        outcomes = reconcile.apply_plan(plan, engine, ledger, parallel=parallel, remediator=remediator)
    else:
        _render_plan(plan, show_unchanged)
        if plan.changes:
            status = _LiveStatus(plan)
            with Live(status, console=console, refresh_per_second=4, transient=False):
                outcomes = reconcile.apply_plan(plan, engine, ledger, parallel=parallel, progress=status.update,
                                                remediator=remediator)
        else:
            outcomes = []
    code = _apply_exit(plan, outcomes)
    if output is OutputFormat.JSON:
        print_json({"mode": "apply", **plan.to_json(), "outcomes": [o.to_json() for o in outcomes],
                    "exit_code": int(code)})
    else:
        tally: dict[str, int] = {}
        for outcome in outcomes:
            tally[outcome.status] = tally.get(outcome.status, 0) + 1
            if outcome.status != "succeeded":
                err_console.print(f"[red]{outcome.status}:[/] {outcome.slug} ({outcome.action.value}): "
                                  f"{outcome.detail}", highlight=False, soft_wrap=True)
        summary = ", ".join(f"{n} {status}" for status, n in sorted(tally.items())) or "nothing to do"
        console.print(f"applied: {summary}")
    raise typer.Exit(int(code))


def drift_cmd(
    directory: DirOpt = Path("stacks"),
    remediate: Annotated[bool, typer.Option("--remediate", help="Put drifted stacks back: refresh, then up "
                                            "taking field ownership back from whoever changed them.")]
    = False,
    parallel: ParallelOpt = 4,
    output: OutputOpt = OutputFormat.TEXT,
    ledger_path: LedgerOpt = None,
) -> None:
    """Report resources of this directory's sandboxes changed outside Pulumi (refresh preview).

    Exit codes: 0 no drift, 2 drift found (and, with --remediate, put back), 1 error.
    """
    stacks_dir = _directory(directory)
    engine, backend = reconcile.open_engine(stacks_dir)
    ledger = reconcile.open_ledger(stacks_dir, backend, ledger_path)
    try:
        plan = reconcile.build_plan(stacks_dir, engine, ledger, reconcile.dir_owner(stacks_dir),
                                    PlanOptions(parallel=parallel))
    except reconcile.ReconcileError as err:
        fail(str(err), ExitCode.ERROR)
        return
    # Stacks this directory owns and that exist: everything but creates, errors and expired-not-created.
    slugs = [item.slug for item in plan.items
             if item.action in (Action.UNCHANGED, Action.UPDATE, Action.KEEP)
             and item.reason is not reconcile.Reason.EXPIRED_NOT_CREATED]
    remediator = reconcile.open_engine(stacks_dir, force_conflicts=True)[0] if remediate else None
    reports = reconcile.check_drift(engine, slugs, remediate=remediate, parallel=parallel, remediator=remediator,
                                    ledger=ledger)
    failed = any(r.error or r.remediated is False for r in reports) or plan.has_errors
    code = ExitCode.ERROR if failed else (ExitCode.CHANGES if any(r.drifted for r in reports) else ExitCode.OK)
    if output is OutputFormat.JSON:
        print_json({"directory": str(stacks_dir), "reports": [r.to_json() for r in reports],
                    "problems": [p.to_json() for p in plan.problems], "exit_code": int(code)})
    else:
        _render_drift(reports)
        for problem in plan.problems:
            err_console.print(f"[red]problem:[/] {problem.path}: {problem.reason}", highlight=False, soft_wrap=True)
    raise typer.Exit(int(code))


def _render_drift(reports: list[DriftReport]) -> None:
    table = Table(title="drift", title_justify="left")
    for column in ("sandbox", "drift", "resources", "remediated"):
        table.add_column(column, overflow="fold")
    for r in reports:
        if r.error:
            state = f"[bold red]error[/] {r.error}"
        elif r.drifted:
            state = "[yellow]" + ", ".join(f"{n} {op}" for op, n in sorted(r.changes.items())) + "[/]"
        else:
            state = "[dim]none[/]"
        fixed = {None: "", True: "[green]yes[/]", False: f"[red]no[/] {r.remediation_error}"}[r.remediated]
        table.add_row(r.slug, state, ", ".join(r.resources), fixed)
    console.print(table)


export_app = typer.Typer(help="Export sandboxes for other engines.", no_args_is_help=True)


@export_app.command("operator")
def export_operator_cmd(
    directory: DirOpt = Path("stacks"),
    out: Annotated[Path, typer.Option("--out", help="Where to write <slug>.yaml and kustomization.yaml.")]
    = Path("deploy/operator"),
    repo: Annotated[str | None, typer.Option("--repo", help="Git URL the operator clones (default: the "
                                             "directory's 'origin' remote).")] = None,
    branch: Annotated[str, typer.Option("--branch")] = "main",
    repo_dir: Annotated[str, typer.Option("--repo-dir", help="Directory of Pulumi.yaml inside the repository.")]
    = ".",
    namespace: Annotated[str, typer.Option("--namespace", help="Namespace of the Stack resources.")]
    = "sandboxes-operator",
    backend: Annotated[str | None, typer.Option("--backend", help="State backend URL the workspace pods reach "
                                                "(default: this machine's, if not file://).")] = None,
    passphrase_secret: Annotated[str, typer.Option("--passphrase-secret", help="Secret holding the passphrase "
                                                   "(key 'passphrase').")] = "sandboxes-pulumi",
    backend_env_secret: Annotated[str | None, typer.Option("--backend-env-secret", help="Secret whose keys become "
                                                           "environment variables (backend credentials).")] = None,
    git_auth_secret: Annotated[str | None, typer.Option("--git-auth-secret")] = None,
    service_account: Annotated[str, typer.Option("--service-account", help="Workspace pods' service account.")]
    = "sandboxes-workspace",
    workspace_image: Annotated[str | None, typer.Option("--workspace-image", help="Image with pulumi, the "
                                                        "plugins and this project's Python packages.")] = None,
    resync: Annotated[int, typer.Option("--resync-seconds", min=60)] = 600,
    output: OutputOpt = OutputFormat.TEXT,
) -> None:
    """Write one Pulumi Kubernetes Operator `Stack` per sandbox of the directory."""
    stacks_dir = _directory(directory)
    repo = repo or reconcile.git_origin(stacks_dir)
    if repo is None:
        fail("no git remote 'origin' for this directory: pass --repo with the URL the operator should clone",
             ExitCode.USAGE)
        return
    if backend is None:
        _, local = reconcile.open_engine(stacks_dir)
        if local.startswith("file://"):
            fail("this machine's backend is a local file:// path the operator's pods cannot reach: "
                 "pass --backend (e.g. s3://bucket/prefix)", ExitCode.USAGE)
        backend = local
    options = reconcile.OperatorOptions(
        repo=repo, branch=branch, repo_dir=repo_dir, namespace=namespace, backend=backend,
        passphrase_secret=passphrase_secret, backend_env_secret=backend_env_secret, git_auth_secret=git_auth_secret,
        service_account=service_account, workspace_image=workspace_image, resync_seconds=resync,
    )
    result, _ = reconcile.export_operator(stacks_dir, out, options)
    code = ExitCode.ERROR if result.problems else ExitCode.OK
    if output is OutputFormat.JSON:
        print_json({"written": [str(p) for p in result.written], "removed": [str(p) for p in result.removed],
                    "skipped": result.skipped, "problems": [p.to_json() for p in result.problems],
                    "exit_code": int(code)})
    else:
        console.print(f"wrote {len(result.written)} Stack resource(s) to {out}", highlight=False, soft_wrap=True)
        for path in result.removed:
            console.print(f"removed {path}", highlight=False, soft_wrap=True)
        for slug, why in result.skipped.items():
            console.print(f"[yellow]skipped[/] {slug}: {why}", highlight=False, soft_wrap=True)
        for problem in result.problems:
            err_console.print(f"[red]problem:[/] {problem.path}: {problem.reason}", highlight=False, soft_wrap=True)
    raise typer.Exit(int(code))


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    app.command("reconcile")(reconcile_cmd)
    app.command("drift")(drift_cmd)
    app.add_typer(export_app, name="export")
