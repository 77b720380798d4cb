"""``sandboxctl`` sandbox commands: create, list, show, update, settings, credentials, delete,
refresh, repair, ops, serve, tokens, db, demo.

Every command runs against a *backend* with the service's method names: the local
``SandboxService`` (default: records in ``$SANDBOXES_DATA_DIR``, operations in detached
worker processes) or, with ``--api-url URL --token T`` (``SANDBOXES_API_URL`` /
``SANDBOXES_TOKEN``), the HTTP API through ``ApiClient``.

Local principal: a local user is a **system-admin** (whoever can read the records file
owns it). ``--provider ID`` acts as that provider's admin instead; ``--role`` picks the
role explicitly. Remote: the token decides.

Exit codes (``ExitCode``): 0 ok, 1 error (or the awaited operation failed), 64 invalid
input, 66 not found, 69 unavailable, 75 conflict (another operation is active), 77
forbidden or unauthenticated.
"""

from __future__ import annotations

import builtins
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from sandboxes.cli.output import ExitCode, OutputFormat, console, err_console, fail, print_json
from sandboxes.service import (
    LOCAL_ADMIN,
    Accepted,
    Conflict,
    Credentials,
    EventPublic,
    Forbidden,
    Invalid,
    NotFound,
    OperationPublic,
    OperationStatus,
    Principal,
    Role,
    SandboxCreate,
    SandboxPage,
    SandboxPublic,
    SandboxService,
    SandboxStatus,
    SandboxUpdate,
    ServiceError,
    Unauthenticated,
    Unavailable,
)
from sandboxes.settings import Settings
from sandboxes.spec import SandboxSettings

DEMO_NAME = "Demo sandbox"


class Backend(Protocol):
    """The service's face, local or remote."""

    def create(self, principal: Principal, request: SandboxCreate) -> Accepted: ...
    def list(self, principal: Principal, provider_id: str | None = ..., parent: str | None = ...,
             status: SandboxStatus | None = ..., limit: int = ..., offset: int = ...) -> SandboxPage: ...
    def get(self, principal: Principal, slug: str) -> SandboxPublic: ...
    def find_by_name(self, principal: Principal, name: str) -> SandboxPublic | None: ...
    def update(self, principal: Principal, slug: str, changes: SandboxUpdate) -> Accepted: ...
    def get_settings(self, principal: Principal, slug: str) -> SandboxSettings: ...
    def update_settings(self, principal: Principal, slug: str, patch: dict[str, Any]) -> Accepted: ...
    def delete(self, principal: Principal, slug: str, confirm: str | None) -> Accepted: ...
    def reseed(self, principal: Principal, slug: str, confirm: str | None) -> Accepted: ...
    def refresh(self, principal: Principal, slug: str) -> Accepted: ...
    def repair(self, principal: Principal, slug: str) -> Accepted: ...
    def credentials(self, principal: Principal, slug: str) -> Credentials: ...
    def get_operation(self, principal: Principal, operation_id: str) -> OperationPublic: ...
    def cancel_operation(self, principal: Principal, operation_id: str) -> OperationPublic: ...
    def list_operations(self, principal: Principal, sandbox: str | None = ...,
                        status: OperationStatus | None = ..., limit: int = ...) -> builtins.list[OperationPublic]: ...
    def operation_events(self, principal: Principal, operation_id: str, after: int = ...,
                         limit: int = ...) -> builtins.list[EventPublic]: ...


# --- shared options ----------------------------------------------------------------------------

ApiUrl = Annotated[str | None, typer.Option("--api-url", envvar="SANDBOXES_API_URL",
                                            help="Use this HTTP API instead of the local records.")]
Token = Annotated[str | None, typer.Option("--token", envvar="SANDBOXES_TOKEN", help="Bearer token for --api-url.")]
AsProvider = Annotated[str | None, typer.Option("--provider", help="Local: act as this provider's admin.")]
AsRole = Annotated[Role | None, typer.Option("--role", help="Local: act with this role (default system-admin).")]
Output = Annotated[OutputFormat, typer.Option("--output", "-o", help="text for people, json for scripts.")]
Wait = Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the operation until it ends.")]


@contextmanager
def _errors() -> Iterator[None]:
    """The one translation of service errors to messages and exit codes."""
    try:
        yield
    except Invalid as err:
        for field, message in err.problems:
            err_console.print(f"  [bold]{field}[/]: {message}", highlight=False)
        fail(err.detail, ExitCode.USAGE)
    except NotFound as err:
        fail(err.detail, ExitCode.NOT_FOUND)
    except Conflict as err:
        hint = f"\n  follow it: sandboxctl ops logs {err.operation_id} --follow" if err.operation_id else ""
        fail(err.detail + hint, ExitCode.CONFLICT)
    except (Forbidden, Unauthenticated) as err:
        fail(err.detail, ExitCode.FORBIDDEN)
    except Unavailable as err:
        fail(err.detail, ExitCode.UNAVAILABLE)
    except ServiceError as err:
        fail(err.detail, ExitCode.ERROR)


def _principal(provider: str | None, role: Role | None) -> Principal:
    if provider is None and role in (None, Role.SYSTEM_ADMIN):
        return LOCAL_ADMIN
    if (role or Role.PROVIDER_ADMIN) == Role.PROVIDER_ADMIN:
        if not provider:
            fail("--role provider-admin needs --provider ID", ExitCode.USAGE)
        return Principal(name=f"local:{provider}", role=Role.PROVIDER_ADMIN, provider_id=provider)
    fail("--provider applies to provider-admin only: system admins act for every provider", ExitCode.USAGE)
    raise AssertionError


def _backend(api_url: str | None, token: str | None, provider: str | None = None,
             role: Role | None = None) -> tuple[Backend, Principal]:
    if api_url:
        from sandboxes.api.client import ApiClient

        if not token:
            fail("--api-url needs --token (or SANDBOXES_TOKEN): issue one with `sandboxctl tokens create`",
                 ExitCode.USAGE)
        return ApiClient(api_url, token), LOCAL_ADMIN
    from sandboxes.service.factory import DispatchMode, build_service
    from sandboxes.service.runner import recover

    with _errors():
        service = build_service(Settings(), DispatchMode.DETACHED)
        recover(service.db)  # a detached worker that died leaves "running" behind: record the truth first
        return service, _principal(provider, role)
    raise AssertionError


# --- output helpers --------------------------------------------------------------------------

_STATUS_STYLE = {"ready": "green", "succeeded": "green", "failed": "red", "creating": "yellow", "updating": "yellow",
                 "deleting": "magenta", "queued": "dim", "running": "yellow", "cancelled": "dim"}


def _styled(value: str) -> str:
    return f"[{_STATUS_STYLE.get(value, 'white')}]{value}[/]"


def _show_sandbox(sandbox: SandboxPublic) -> None:
    table = Table(show_header=False, box=None)
    for key, value in (("slug", sandbox.slug), ("name", sandbox.name), ("description", sandbox.description),
                       ("status", _styled(sandbox.status.value)), ("url", sandbox.url or "-"),
                       ("provider", sandbox.provider_id or "(prospect)"), ("live provider", sandbox.live_provider_id),
                       ("parent", sandbox.parent), ("modules", ", ".join(m.value for m in sandbox.modules)),
                       ("data", sandbox.data.value), ("owner", sandbox.owner),
                       ("active operation", sandbox.active_operation_id),
                       ("needs repair", sandbox.needs_repair or None),
                       ("created", f"{sandbox.created_at:%Y-%m-%d %H:%M:%S} by {sandbox.created_by}")):
        if value not in (None, ""):
            table.add_row(f"[bold]{key}[/]", str(value))
    console.print(table)


def _describe(event: dict[str, Any]) -> str | None:
    """One line of Rich markup for an engine event; the engine's own text is escaped, not markup."""
    kind = event.get("type")
    if kind in ("resource-pre", "resource-done"):
        urn = escape(str(event.get("urn", "")).rsplit("::", 1)[-1])
        verb = escape(str(event.get("op", "")))
        mark = "…" if kind == "resource-pre" else "✓"
        return f"{mark} {verb} {urn} [dim]{escape(str(event.get('resource_type', '')))}[/]"
    if kind == "resource-failed":
        return f"[red]✗ {escape(str(event.get('urn', '')).rsplit('::', 1)[-1])} failed[/]"
    if kind == "diagnostic" and event.get("severity") in ("error", "warning", "info"):
        colour = {"error": "red", "warning": "yellow"}.get(str(event.get("severity")), "default")
        return f"[{colour}]{escape(str(event.get('message', '')))}[/]"
    if kind == "summary":
        return f"summary: {escape(str(event.get('changes')))}"
    if kind == "repair":
        return f"[magenta]repair[/]: {escape(str(event.get('message')))}"
    return None


def _follow(backend: Backend, principal: Principal, operation_id: str, quiet: bool = False,
            poll: float = 0.4) -> OperationPublic:
    """Live progress: engine events printed as they arrive under a Rich status line, until the end."""
    after = 0
    started = time.monotonic()
    with err_console.status(f"operation {operation_id[:8]} queued", spinner="dots") as status:
        while True:
            operation = backend.get_operation(principal, operation_id)
            for item in backend.operation_events(principal, operation_id, after=after):
                after = item.seq
                line = _describe(item.event)
                if line and not quiet:
                    err_console.print(f"[dim]{time.monotonic() - started:6.1f}s[/] {line}", highlight=False)
            if operation.status.finished:
                return operation
            if operation.status == OperationStatus.RUNNING and isinstance(backend, SandboxService):
                from sandboxes.service.runner import recover

                recover(backend.db)  # local: a worker killed under us must not be waited on forever
            status.update(f"{operation.kind.value} {operation.sandbox}: {operation.status.value} "
                          f"({time.monotonic() - started:.0f}s, {after} events)")
            time.sleep(poll)


def _accepted(backend: Backend, principal: Principal, accepted: Accepted, wait: bool, output: OutputFormat,
              what: str) -> None:
    operation = accepted.operation
    if not wait:
        if output == OutputFormat.JSON:
            print_json(accepted.model_dump(mode="json"))
        else:
            console.print(f"{what} [bold]{accepted.sandbox.slug}[/]: operation {operation.id} {operation.kind.value}"
                          f" queued\n  follow it: sandboxctl ops logs {operation.id} --follow")
        return
    with _errors():
        operation = _follow(backend, principal, operation.id, quiet=output == OutputFormat.JSON)
    if output == OutputFormat.JSON:
        sandbox = accepted.sandbox
        if operation.status == OperationStatus.SUCCEEDED and operation.kind.value != "destroy":
            sandbox = _refetch(backend, principal, sandbox.slug)
        print_json({"sandbox": sandbox.model_dump(mode="json"), "operation": operation.model_dump(mode="json")})
    elif operation.status == OperationStatus.SUCCEEDED:
        console.print(f"[green]{what}[/] [bold]{accepted.sandbox.slug}[/] ({operation.kind.value} succeeded)")
    if operation.status != OperationStatus.SUCCEEDED:
        fail(f"operation {operation.id} {operation.status.value}: {operation.error or 'no detail'}", ExitCode.ERROR)


def _parse_value(raw: str) -> Any:
    """``key.path=value`` values: JSON when they parse as JSON (true, 3, null, ["msp"], "x"), else the string.

    Not YAML: ``#112233`` would be a YAML comment, and a colour must stay a colour.
    """
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _pairs_to_patch(pairs: list[str]) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            fail(f"{pair!r}: expected key.path=value, e.g. look_and_feel.light.primary=#0057b8", ExitCode.USAGE)
        key, raw = pair.split("=", 1)
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            fail(f"{pair!r}: empty key", ExitCode.USAGE)
        node = patch
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                fail(f"{key}: conflicts with another pair", ExitCode.USAGE)
        node[parts[-1]] = _parse_value(raw)
    return patch


def _load_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())  # YAML is a superset of JSON: one reader for both
    except (OSError, yaml.YAMLError) as err:
        fail(f"{path}: {err}", ExitCode.USAGE)
    if not isinstance(data, dict):
        fail(f"{path}: expected a mapping of settings", ExitCode.USAGE)
    return dict(data)


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) \
            else value
    return out


# --- commands --------------------------------------------------------------------------------


def create(
    name: Annotated[str, typer.Option("--name", "-n", help="A clear, descriptive name.")],
    module: Annotated[list[str], typer.Option("--module", "-m", help="msp and/or cpo (repeat).")],
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    data: Annotated[str, typer.Option("--data", help="blank | preconfigured | copy (needs --parent)")] = "blank",
    parent: Annotated[str | None, typer.Option("--parent", help="Slug of the parent sandbox.")] = None,
    for_provider: Annotated[str | None, typer.Option("--for-provider", help="System admins: owning provider.")] = None,
    live_provider: Annotated[str | None, typer.Option("--live-provider", help="System admins only.")] = None,
    size: Annotated[str | None, typer.Option("--size", help="small | medium | large")] = None,
    expires_at: Annotated[str | None, typer.Option("--expires-at", help="e.g. 2026-12-31T18:00:00Z")] = None,
    settings_file: Annotated[Path | None, typer.Option("--settings-file", help="Settings as JSON/YAML.")] = None,
    wait: Wait = True,
    output: Output = OutputFormat.TEXT,
    api_url: ApiUrl = None, token: Token = None, provider: AsProvider = None, role: AsRole = None,
) -> None:
    """Create a sandbox and (by default) follow its provisioning live."""
    backend, principal = _backend(api_url, token, provider, role)
    body: dict[str, Any] = {"name": name, "description": description, "modules": module, "data": data,
                            "parent": parent, "provider_id": for_provider, "live_provider_id": live_provider}
    platform = {k: v for k, v in (("size", size), ("expires_at", expires_at)) if v is not None}
    if platform:
        body["platform"] = platform
    if settings_file is not None:
        body["settings"] = _load_file(settings_file)
    with _errors():
        try:
            request = SandboxCreate.model_validate({k: v for k, v in body.items() if v is not None})
        except ValueError as err:
            from pydantic import ValidationError

            from sandboxes.spec import format_validation_error

            problems = format_validation_error(err) if isinstance(err, ValidationError) else [("", str(err))]
            raise Invalid("the sandbox request is not valid", problems) from None
        accepted = backend.create(principal, request)
    _accepted(backend, principal, accepted, wait, output, "created")
    if output == OutputFormat.TEXT and wait:
        _show_sandbox(_refetch(backend, principal, accepted.sandbox.slug))


def _refetch(backend: Backend, principal: Principal, slug: str) -> SandboxPublic:
    with _errors():
        return backend.get(principal, slug)
    raise AssertionError


def list_cmd(
    for_provider: Annotated[str | None, typer.Option("--for-provider", help="Only this provider's.")] = None,
    parent: Annotated[str | None, typer.Option("--parent")] = None,
    status: Annotated[SandboxStatus | None, typer.Option("--status")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    output: Output = OutputFormat.TEXT,
    api_url: ApiUrl = None, token: Token = None, provider: AsProvider = None, role: AsRole = None,
) -> None:
    """The sandbox overview (filters, pagination)."""
    backend, principal = _backend(api_url, token, provider, role)
    with _errors():
        page = backend.list(principal, provider_id=for_provider, parent=parent, status=status, limit=limit,
                            offset=offset)
    if output == OutputFormat.JSON:
        print_json(page.model_dump(mode="json"))
        return
    table = Table("slug", "name", "status", "provider", "modules", "data", "url")
    for s in page.items:
        table.add_row(s.slug, s.name, _styled(s.status.value), s.provider_id or "(prospect)",
                      ",".join(m.value for m in s.modules), s.data.value, s.url or "-")
    console.print(table)
    console.print(f"[dim]{offset + 1 if page.items else 0}-{offset + len(page.items)} of {page.total}[/]")


def show(slug: str, output: Output = OutputFormat.TEXT, api_url: ApiUrl = None, token: Token = None,
         provider: AsProvider = None, role: AsRole = None) -> None:
    """One sandbox."""
    backend, principal = _backend(api_url, token, provider, role)
    with _errors():
        sandbox = backend.get(principal, slug)
    if output == OutputFormat.JSON:
        print_json(sandbox.model_dump(mode="json"))
    else:
        _show_sandbox(sandbox)


def update(
    slug: str,
    name: Annotated[str | None, typer.Option("--name", "-n")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    wait: Wait = True, output: Output = OutputFormat.TEXT,
    api_url: ApiUrl = None, token: Token = None, provider: AsProvider = None, role: AsRole = None,
) -> None:
    """Edit the name and/or description (applied by an up)."""
    backend, principal = _backend(api_url, token, provider, role)
    with _errors():
        accepted = backend.update(principal, slug, SandboxUpdate(name=name, description=description))
    _accepted(backend, principal, accepted, wait, output, "updated")


settings_app = typer.Typer(help="Sandbox settings: look & feel, product selection, billing, roaming…",
                           no_args_is_help=True)


@settings_app.command("get")
def settings_get(slug: str, output: Output = OutputFormat.TEXT, api_url: ApiUrl = None, token: Token = None,
                 provider: AsProvider = None, role: AsRole = None) -> None:
    """Show the settings (text: YAML; json: JSON)."""
    backend, principal = _backend(api_url, token, provider, role)
    with _errors():
        settings = backend.get_settings(principal, slug)
    if output == OutputFormat.JSON:
        print_json(settings.model_dump(mode="json"))
    else:
        console.print(yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False).rstrip(), highlight=False)


@settings_app.command("set")
def settings_set(
    slug: str,
    pairs: Annotated[list[str] | None, typer.Argument(help="key.path=value, e.g. billing.invoicing=true")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="A JSON/YAML mapping merged into the settings.")]
    = None,
    wait: Wait = True, output: Output = OutputFormat.TEXT,
    api_url: ApiUrl = None, token: Token = None, provider: AsProvider = None, role: AsRole = None,
) -> None:
    """Change settings (merged: untouched keys keep their values; value null resets a key) and apply them."""
    patch = _load_file(file) if file else {}
    patch = _deep_merge(patch, _pairs_to_patch(pairs or []))
    if not patch:
        fail("nothing to set: give key.path=value pairs and/or --file", ExitCode.USAGE)
    backend, principal = _backend(api_url, token, provider, role)
    with _errors():
        accepted = backend.update_settings(principal, slug, patch)
    _accepted(backend, principal, accepted, wait, output, "settings applied to")


def credentials(slug: str, output: Output = OutputFormat.TEXT, api_url: ApiUrl = None, token: Token = None,
                provider: AsProvider = None, role: AsRole = None) -> None:
    """The sandbox's pre-created API credentials. Secret: printed only here, never logged."""
    backend, principal = _backend(api_url, token, provider, role)
    with _errors():
        creds = backend.credentials(principal, slug)
    if output == OutputFormat.JSON:
        print_json(creds.model_dump(mode="json"))
        return
    table = Table(show_header=False, box=None)
    for key in ("url", "api_key_id", "api_secret", "database_url"):
        table.add_row(f"[bold]{key}[/]", str(getattr(creds, key) or "-"))
    console.print(table)


def delete(
    slug: str,
    confirm: Annotated[str | None, typer.Option("--confirm", help="Repeat the slug: deletion is permanent.")] = None,
    wait: Wait = True, output: Output = OutputFormat.TEXT,
    api_url: ApiUrl = None, token: Token = None, provider: AsProvider = None, role: AsRole = None,
) -> None:
    """Permanently delete a sandbox and all its data (destroy, then remove its stack and stack file)."""
    backend, principal = _backend(api_url, token, provider, role)
    with _errors():
        accepted = backend.delete(principal, slug, confirm)
    _accepted(backend, principal, accepted, wait, output, "deleted")


def reseed(
    slug: str,
    confirm: Annotated[str | None, typer.Option("--confirm", help="Repeat the slug: the data is replaced.")] = None,
    wait: Wait = True, output: Output = OutputFormat.TEXT,
    api_url: ApiUrl = None, token: Token = None, provider: AsProvider = None, role: AsRole = None,
) -> None:
    """Wipe the sandbox's business data and seed it again from its data mode (refreshes a masked copy too)."""
    backend, principal = _backend(api_url, token, provider, role)
    with _errors():
        accepted = backend.reseed(principal, slug, confirm)
    _accepted(backend, principal, accepted, wait, output, "re-seeded")


def refresh(slug: str, wait: Wait = True, output: Output = OutputFormat.TEXT, api_url: ApiUrl = None,
            token: Token = None, provider: AsProvider = None, role: AsRole = None) -> None:
    """Re-read the sandbox's real objects into its stack state."""
    backend, principal = _backend(api_url, token, provider, role)
    with _errors():
        accepted = backend.refresh(principal, slug)
    _accepted(backend, principal, accepted, wait, output, "refreshed")


def repair(slug: str, wait: Wait = True, output: Output = OutputFormat.TEXT, api_url: ApiUrl = None,
           token: Token = None, provider: AsProvider = None, role: AsRole = None) -> None:
    """Recover a stack after a crash: stale lock, pending creates, refresh."""
    backend, principal = _backend(api_url, token, provider, role)
    with _errors():
        accepted = backend.repair(principal, slug)
    _accepted(backend, principal, accepted, wait, output, "repaired")


ops_app = typer.Typer(help="Operations (up, destroy, refresh, repair) and their engine events.", no_args_is_help=True)


@ops_app.command("list")
def ops_list(
    sandbox: Annotated[str | None, typer.Option("--sandbox", "-s")] = None,
    status: Annotated[OperationStatus | None, typer.Option("--status")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 20,
    output: Output = OutputFormat.TEXT,
    api_url: ApiUrl = None, token: Token = None, provider: AsProvider = None, role: AsRole = None,
) -> None:
    """Recent operations, newest first."""
    backend, principal = _backend(api_url, token, provider, role)
    with _errors():
        ops = backend.list_operations(principal, sandbox=sandbox, status=status, limit=limit)
    if output == OutputFormat.JSON:
        print_json([o.model_dump(mode="json") for o in ops])
        return
    table = Table("id", "sandbox", "kind", "status", "by", "created", "error")
    for o in ops:
        table.add_row(o.id, o.sandbox, o.kind.value, _styled(o.status.value), o.requested_by,
                      f"{o.created_at:%Y-%m-%d %H:%M:%S}", (o.error or "").splitlines()[0][:60] if o.error else "")
    console.print(table)


@ops_app.command("show")
def ops_show(operation_id: str, output: Output = OutputFormat.TEXT, api_url: ApiUrl = None, token: Token = None,
             provider: AsProvider = None, role: AsRole = None) -> None:
    """One operation: status, times, error, engine summary."""
    backend, principal = _backend(api_url, token, provider, role)
    with _errors():
        op = backend.get_operation(principal, operation_id)
    if output == OutputFormat.JSON:
        print_json(op.model_dump(mode="json"))
        return
    table = Table(show_header=False, box=None)
    for key, value in (("id", op.id), ("sandbox", op.sandbox), ("kind", op.kind.value),
                       ("status", _styled(op.status.value)), ("requested by", op.requested_by),
                       ("created", op.created_at), ("started", op.started_at), ("finished", op.finished_at),
                       ("error", op.error), ("summary", json.dumps(op.summary) if op.summary else None)):
        if value is not None:
            table.add_row(f"[bold]{key}[/]", str(value))
    console.print(table)


@ops_app.command("logs")
def ops_logs(
    operation_id: str,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing until the operation ends.")] = False,
    output: Output = OutputFormat.TEXT,
    api_url: ApiUrl = None, token: Token = None, provider: AsProvider = None, role: AsRole = None,
) -> None:
    """The operation's engine events (JSON lines with -o json)."""
    backend, principal = _backend(api_url, token, provider, role)
    with _errors():
        if follow and output == OutputFormat.TEXT:
            op = _follow(backend, principal, operation_id)
            console.print(f"operation {op.id}: {_styled(op.status.value)}")
            if op.status != OperationStatus.SUCCEEDED:
                raise SystemExit(int(ExitCode.ERROR))
            return
        after = 0
        while True:
            op = backend.get_operation(principal, operation_id)
            for item in backend.operation_events(principal, operation_id, after=after):
                after = item.seq
                if output == OutputFormat.JSON:
                    print(json.dumps({"seq": item.seq, **item.event}, default=str), flush=True)
                else:
                    console.print(_describe(item.event) or f"[dim]{item.event.get('type')}[/]", highlight=False)
            if not follow or op.status.finished:
                return
            time.sleep(0.4)


@ops_app.command("cancel")
def ops_cancel(operation_id: str, output: Output = OutputFormat.TEXT, api_url: ApiUrl = None, token: Token = None,
               provider: AsProvider = None, role: AsRole = None) -> None:
    """Cancel an operation: a queued one at once, a running one gracefully (follow it with `ops logs -f`)."""
    backend, principal = _backend(api_url, token, provider, role)
    with _errors():
        op = backend.cancel_operation(principal, operation_id)
    if output == OutputFormat.JSON:
        print_json(op.model_dump(mode="json"))
    elif op.status == OperationStatus.RUNNING:
        console.print(f"operation {op.id}: cancel requested; the engine finishes its steps in flight and stops "
                      f"(follow it: sandboxctl ops logs {op.id} --follow)")
    else:
        console.print(f"operation {op.id}: {_styled(op.status.value)}")


tokens_app = typer.Typer(help="API bearer tokens (stored hashed).", no_args_is_help=True)


def _records() -> SandboxService:
    """The local service over this machine's records, running no operations (token administration)."""
    from sandboxes.service.factory import DispatchMode, build_service

    return build_service(Settings(), DispatchMode.NONE)


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Option("--name", help="Who or what uses the token.")],
    role: Annotated[Role, typer.Option("--role")] = Role.PROVIDER_ADMIN,
    provider: Annotated[str | None, typer.Option("--provider", help="Provider of a provider-admin token.")] = None,
    output: Output = OutputFormat.TEXT,
) -> None:
    """Issue a token for the HTTP API; it is printed once and only its hash is stored."""
    with _errors():
        issued = _records().issue_token(name, role, provider)
    if output == OutputFormat.JSON:
        print_json(issued.model_dump(mode="json"))
        return
    console.print(f"token for [bold]{name}[/] ({role.value}{', ' + provider if provider else ''}):")
    console.print(issued.token, highlight=False, soft_wrap=True)
    err_console.print("[dim]shown once: store it now (only its hash is kept)[/]")


@tokens_app.command("list")
def tokens_list(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
    output: Output = OutputFormat.TEXT,
) -> None:
    """The tokens issued (name, role, provider, when); never the tokens themselves."""
    with _errors():
        tokens = _records().list_tokens(include_revoked=all_)
    if output == OutputFormat.JSON:
        print_json([t.model_dump(mode="json") for t in tokens])
        return
    table = Table("id", "name", "role", "provider", "created", "revoked", box=None)
    for t in tokens:
        table.add_row(t.id, t.name, t.role, t.provider_id or "-", t.created_at.strftime("%Y-%m-%d %H:%M"),
                      t.revoked_at.strftime("%Y-%m-%d %H:%M") if t.revoked_at else "")
    console.print(table if tokens else "[dim]no tokens: issue one with `sandboxctl tokens create`[/]")


@tokens_app.command("revoke")
def tokens_revoke(token_id: Annotated[str, typer.Argument(help="The id `tokens list` shows.")],
                  output: Output = OutputFormat.TEXT) -> None:
    """Stop a token from working, at once (its holder gets 401 on the next request)."""
    with _errors():
        revoked = _records().revoke_token(token_id)
    if output == OutputFormat.JSON:
        print_json(revoked.model_dump(mode="json"))
        return
    console.print(f"token {revoked.id} ({revoked.name}) revoked")


db_app = typer.Typer(help="The records database.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the records migrations (idempotent; the API server also runs them at start-up)."""
    from sandboxes.service.factory import upgrade_database

    with _errors():
        revision = upgrade_database(Settings())
    console.print(f"records database at revision {revision}")


def serve(
    host: Annotated[str | None, typer.Option("--host", help="Default: SANDBOXES_API_HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Default: SANDBOXES_API_PORT or 8700.")] = None,
) -> None:
    """Run the HTTP API (migrations, start-up recovery, worker pool); OpenAPI docs at /docs."""
    import uvicorn

    from sandboxes.api import create_app

    try:
        settings = Settings()
    except ValueError as err:
        fail(str(err), ExitCode.USAGE)
        return
    with _errors():
        app = create_app(settings=settings)
    uvicorn.run(app, host=host or settings.api_host, port=port or settings.api_port, log_level="info")


def demo(
    output: Output = OutputFormat.TEXT,
    api_url: ApiUrl = None, token: Token = None,
) -> None:
    """Create (or reuse) a sandbox with preconfigured data for MSP and CPO, as a local system-admin, and follow it."""
    backend, principal = _backend(api_url, token)
    with _errors():
        existing = backend.find_by_name(principal, DEMO_NAME)
        if existing is not None and existing.active_operation_id:
            err_console.print(f"reusing [bold]{existing.slug}[/]: following its operation")
            operation = _follow(backend, principal, existing.active_operation_id)
            slug = existing.slug
        elif existing is not None:
            # Its records may outlive its objects (a `cluster down` removes the embedded cluster, not the
            # stacks): read what really exists, then apply it again. Both are quick when nothing is missing.
            err_console.print(f"reusing [bold]{existing.slug}[/] ({existing.status.value}): "
                              "checking it against the cluster, then applying it again")
            refreshed = backend.refresh(principal, existing.slug)
            operation = _follow(backend, principal, refreshed.operation.id)
            if operation.status == OperationStatus.SUCCEEDED:
                accepted = backend.update(principal, existing.slug, SandboxUpdate(name=DEMO_NAME))
                operation = _follow(backend, principal, accepted.operation.id)
            slug = existing.slug
        else:
            request = SandboxCreate.model_validate({
                "name": DEMO_NAME, "description": "Both modules with preconfigured test data (sandboxctl demo).",
                "modules": ["msp", "cpo"], "data": "preconfigured",
            })
            accepted = backend.create(principal, request)
            err_console.print(f"creating [bold]{accepted.sandbox.slug}[/] (operation {accepted.operation.id})")
            operation = _follow(backend, principal, accepted.operation.id)
            slug = accepted.sandbox.slug
        sandbox = backend.get(principal, slug)
    if operation is not None and operation.status != OperationStatus.SUCCEEDED:
        fail(f"operation {operation.id} {operation.status.value}: {operation.error or ''}\n"
             f"  details: sandboxctl ops logs {operation.id}", ExitCode.ERROR)
    if output == OutputFormat.JSON:
        print_json(sandbox.model_dump(mode="json"))
        return
    console.print(f"\n[green]demo sandbox ready[/]: [bold]{sandbox.slug}[/]  {sandbox.url or ''}")
    console.print(f"  credentials:  sandboxctl credentials {sandbox.slug}")
    console.print(f"  settings:     sandboxctl settings set {sandbox.slug} look_and_feel.light.primary=#e4002b")
    console.print(f"  delete it:    sandboxctl delete {sandbox.slug} --confirm {sandbox.slug}")


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    app.command("create")(create)
    app.command("list")(list_cmd)
    app.command("show")(show)
    app.command("update")(update)
    app.add_typer(settings_app, name="settings")
    app.command("credentials")(credentials)
    app.command("delete")(delete)
    app.command("reseed")(reseed)
    app.command("refresh")(refresh)
    app.command("repair")(repair)
    app.add_typer(ops_app, name="ops")
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(db_app, name="db")
    app.command("serve")(serve)
    app.command("demo")(demo)
