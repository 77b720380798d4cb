"""The engine driver: the one place that talks to Pulumi's Automation API.

Every sandbox is a stack of the one Pulumi program at the project root. A stack's
configuration lives in ``<stacks dir>/Pulumi.<slug>.yaml``: the repository's
``stacks/`` for sandboxes kept in git, the service's data directory for sandboxes
made through the API. Pulumi reads stack files from the project's ``stackConfigDir``,
so for a directory other than ``stacks/`` the driver runs the program from a *project
view*: a directory of symlinks to the project whose ``stacks`` entry points at the
wanted directory. The program, its components and its virtualenv stay the same files.

Errors are mapped once, here, to the project's own: ``StackMissing`` (404),
``StackBusy`` (409), ``EngineFailed``. Secrets never leave as plain text: outputs
are returned masked unless asked for, and the engine runs with ``show_secrets=False``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi.automation as auto

from sandboxes.environment import Environment, resolve
from sandboxes.paths import data_dir, project_root
from sandboxes.processes import process_alive

__all__ = [
    "Engine",
    "EngineError",
    "EngineFailed",
    "OperationResult",
    "StackBusy",
    "StackMissing",
]

PROJECT = "sandboxes"
# What the language host needs to run the program; a project view links exactly these.
PROGRAM_FILES = ("Pulumi.yaml", "__main__.py", "components", "charts", ".venv", "pyproject.toml")
SECRET_MASK = "[secret]"
EventSink = Callable[[dict[str, Any]], None]
LineSink = Callable[[str], None]


class EngineError(RuntimeError):
    """Base of the driver's errors."""


class StackMissing(EngineError):
    pass


class StackBusy(EngineError):
    """Another update holds the stack's lock."""


class EngineFailed(EngineError):
    """The engine ran and reported failure; ``detail`` holds its last diagnostic lines."""

    def __init__(self, message: str, detail: str = "") -> None:
        self.detail = detail
        super().__init__(message)


@dataclass
class OperationResult:
    kind: str
    result: str
    changes: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """Safe to store and show: counts and non-secret outputs, never config or secrets."""
        return {
            "kind": self.kind,
            "result": self.result,
            "changes": self.changes,
            "outputs": self.outputs,
            "seconds": round(self.seconds, 2),
        }


def _mask(outputs: Mapping[str, auto.OutputValue], include_secrets: bool) -> dict[str, Any]:
    return {
        key: (value.value if include_secrets or not value.secret else SECRET_MASK) for key, value in outputs.items()
    }


def _counts(changes: Mapping[Any, int] | None) -> dict[str, int]:
    """Resource change counts keyed by plain operation names ("create", "same", ...)."""
    return {str(getattr(op, "value", op)): int(n) for op, n in (changes or {}).items()}


def _event_dict(event: auto.EngineEvent) -> dict[str, Any]:
    """A compact, secret-free record of an engine event, for logs and streaming."""
    out: dict[str, Any] = {"sequence": event.sequence, "timestamp": event.timestamp}
    if event.diagnostic_event:
        out.update(type="diagnostic", severity=event.diagnostic_event.severity,
                   message=event.diagnostic_event.message.strip(), urn=event.diagnostic_event.urn)
    elif event.resource_pre_event:
        md = event.resource_pre_event.metadata
        out.update(type="resource-pre", op=str(md.op.value if hasattr(md.op, "value") else md.op), urn=md.urn,
                   resource_type=md.type)
    elif event.res_outputs_event:
        md = event.res_outputs_event.metadata
        out.update(type="resource-done", op=str(md.op.value if hasattr(md.op, "value") else md.op), urn=md.urn,
                   resource_type=md.type)
    elif event.res_op_failed_event:
        md = event.res_op_failed_event.metadata
        out.update(type="resource-failed", urn=md.urn, resource_type=md.type)
    elif event.summary_event:
        out.update(type="summary", changes={str(k): v for k, v in (event.summary_event.resource_changes or {}).items()},
                   seconds=event.summary_event.duration_seconds)
    elif event.prelude_event:
        out.update(type="prelude")
    elif event.cancel_event:
        out.update(type="cancel")
    else:
        out.update(type="other")
    return out


def project_view(stacks_dir: Path) -> Path:
    """The directory to run Pulumi from so that it reads stack files from ``stacks_dir``."""
    root = project_root()
    stacks_dir = stacks_dir.resolve()
    if stacks_dir == (root / "stacks").resolve():
        return root
    key = hashlib.sha256(str(stacks_dir).encode()).hexdigest()[:12]
    view = data_dir() / "project-views" / key
    view.mkdir(parents=True, exist_ok=True)
    wanted_links = {name: (root / name).resolve() for name in PROGRAM_FILES if (root / name).exists()}
    wanted_links["stacks"] = stacks_dir
    for existing in view.iterdir():
        target = wanted_links.get(existing.name)
        if target is None or not existing.is_symlink() or existing.resolve() != target:
            existing.unlink()
    for name, target in wanted_links.items():
        link = view / name
        if not link.is_symlink():
            link.symlink_to(target)
    stacks_dir.mkdir(parents=True, exist_ok=True)
    return view


class Engine:
    """Automation API operations on the sandbox stacks of one stacks directory."""

    def __init__(self, stacks_dir: Path | None = None, environment: Environment | None = None) -> None:
        self.stacks_dir = (stacks_dir or project_root() / "stacks").resolve()
        self.environment = environment or resolve()

    # --- workspace -------------------------------------------------------------------------

    def _env_vars(self) -> dict[str, str]:
        return self.environment.exports()

    def _workspace(self) -> auto.LocalWorkspace:
        return auto.LocalWorkspace(work_dir=str(project_view(self.stacks_dir)), env_vars=self._env_vars(),
                                   pulumi_command=self._command())

    def _command(self) -> auto.PulumiCommand:
        """Our toolchain's pulumi when it is there (root/bin/pulumi), else the one on PATH."""
        root = self.environment.bin_dir.parent
        has_ours = (self.environment.bin_dir / "pulumi").exists()
        return auto.PulumiCommand(root=str(root) if has_ours else None, skip_version_check=True)

    def _preflight(self) -> None:
        """Fail with what to do, not with the provider's parse error of a missing file."""
        kubeconfig = self.environment.kubeconfig
        if not kubeconfig.exists():
            hint = ("start the embedded cluster with 'sandboxctl cluster up'" if not
                    self.environment.kubeconfig_from_user else "check KUBECONFIG")
            raise EngineFailed(f"kubeconfig {kubeconfig} does not exist: {hint}")

    def _select(self, slug: str, create: bool = False) -> auto.Stack:
        self._preflight()
        ws = self._workspace()
        for attempt in (1, 2):
            try:
                if create:
                    return auto.Stack.create_or_select(slug, ws)
                return auto.Stack.select(slug, ws)
            except auto.StackNotFoundError:
                raise StackMissing(f"no stack {slug!r} in the backend") from None
            except auto.CommandError as err:
                if attempt == 1 and "failed to load checkpoint" in str(err) and self.heal_backend():
                    continue
                raise _translate(err, slug) from None
        raise AssertionError("unreachable")

    def stacks(self) -> list[str]:
        """Names of every stack of this project in the backend."""
        ws = self._workspace()
        try:
            listed = ws.list_stacks()
        except auto.CommandError as err:
            # One stack's half-written checkpoint breaks the listing of all: heal, then retry once.
            if not self.heal_backend():
                raise _translate(err, "(all stacks)") from None
            listed = ws.list_stacks()
        return sorted(s.name.rsplit("/", 1)[-1] for s in listed)

    # --- operations ------------------------------------------------------------------------

    def up(self, slug: str, on_event: EventSink | None = None, on_output: LineSink | None = None) -> OperationResult:
        stack = self._select(slug, create=True)
        started = time.monotonic()
        try:
            res = stack.up(on_event=_events(on_event), on_output=on_output, show_secrets=False, color="never",
                           suppress_outputs=True)
        except auto.CommandError as err:
            raise _translate(err, slug) from None
        return OperationResult(
            kind="up", result=res.summary.result, changes=_counts(res.summary.resource_changes),
            outputs=_mask(res.outputs, include_secrets=False), seconds=time.monotonic() - started,
        )

    def preview(self, slug: str, on_event: EventSink | None = None, refresh: bool = False) -> OperationResult:
        stack = self._select(slug, create=True)
        started = time.monotonic()
        try:
            res = stack.preview(on_event=_events(on_event), color="never", refresh=refresh, suppress_outputs=True)
        except auto.CommandError as err:
            raise _translate(err, slug) from None
        changes = {str(k): int(v) for k, v in (res.change_summary or {}).items()}
        return OperationResult(kind="preview", result="succeeded", changes=changes, seconds=time.monotonic() - started)

    def refresh(self, slug: str, on_event: EventSink | None = None, preview_only: bool = False,
                clear_pending_creates: bool = False) -> OperationResult:
        stack = self._select(slug)
        started = time.monotonic()
        try:
            res = stack.refresh(on_event=_events(on_event), color="never", preview_only=preview_only or None,
                                clear_pending_creates=clear_pending_creates or None, show_secrets=False,
                                suppress_outputs=True)
        except auto.CommandError as err:
            raise _translate(err, slug) from None
        return OperationResult(kind="refresh", result=res.summary.result,
                               changes=_counts(res.summary.resource_changes), seconds=time.monotonic() - started)

    def destroy(self, slug: str, on_event: EventSink | None = None, remove: bool = True) -> OperationResult:
        stack = self._select(slug)
        started = time.monotonic()
        try:
            res = stack.destroy(on_event=_events(on_event), color="never", show_secrets=False, remove=remove or None,
                                suppress_outputs=True)
        except auto.CommandError as err:
            raise _translate(err, slug) from None
        return OperationResult(kind="destroy", result=res.summary.result,
                               changes=_counts(res.summary.resource_changes), seconds=time.monotonic() - started)

    def outputs(self, slug: str, include_secrets: bool = False) -> dict[str, Any]:
        stack = self._select(slug)
        try:
            return _mask(stack.outputs(), include_secrets)
        except auto.CommandError as err:
            raise _translate(err, slug) from None

    def remove_stack(self, slug: str) -> None:
        ws = self._workspace()
        try:
            ws.remove_stack(slug)
        except auto.CommandError as err:
            raise _translate(err, slug) from None

    # --- repair after a crash --------------------------------------------------------------

    def _file_state(self) -> Path | None:
        url = self.environment.backend_url
        return Path(url.removeprefix("file://")) / ".pulumi" if url.startswith("file://") else None

    def _locks(self, slug: str) -> tuple[list[Path], list[Path]]:
        """(stale, live) lock files of the local file backend for ``slug``."""
        state = self._file_state()
        if state is None:
            return [], []
        locks = state / "locks" / "organization" / PROJECT / slug
        stale: list[Path] = []
        live: list[Path] = []
        for lock in locks.glob("*.json") if locks.is_dir() else []:
            try:
                info = json.loads(lock.read_text())
                pid, host = int(info.get("pid", 0)), info.get("hostname", "")
            except (OSError, ValueError):
                stale.append(lock)
                continue
            if host and host != os.uname().nodename:
                live.append(lock)  # another machine's lock: never ours to break
                continue
            (live if process_alive(pid) else stale).append(lock)
        return stale, live

    def stale_locks(self, slug: str) -> list[Path]:
        """Lock files of the local file backend whose owning process is gone."""
        return self._locks(slug)[0]

    def heal_backend(self) -> list[str]:
        """Undo what an engine killed mid-write leaves in a file backend, for stacks no live process holds.

        The file backend writes a checkpoint to a temporary file, renames it, then writes an
        ``.attrs`` sidecar; a SIGKILL in between leaves a ``.tmp`` file or an empty sidecar,
        and then *every* command that lists stacks fails with ``EOF``. The sidecar is only
        metadata, the temporary file was never the checkpoint, and a checkpoint that does not
        parse is replaced by the backend's own ``.bak`` copy of the previous one.
        """
        state = self._file_state()
        if state is None:
            return []
        done: list[str] = []
        stacks_dir = state / "stacks" / PROJECT
        for checkpoint in sorted(stacks_dir.glob("*.json")) if stacks_dir.is_dir() else []:
            slug = checkpoint.name.removesuffix(".json")
            if self._locks(slug)[1]:
                continue  # a live update owns these files
            for tmp in stacks_dir.glob(f"{checkpoint.name}.*.tmp"):
                tmp.unlink(missing_ok=True)
                done.append(f"{slug}: removed unfinished write {tmp.name}")
            attrs = checkpoint.with_name(checkpoint.name + ".attrs")
            if attrs.exists() and not _parses(attrs):
                attrs.unlink()
                done.append(f"{slug}: removed truncated {attrs.name}")
            if not _parses(checkpoint):
                backup = checkpoint.with_name(checkpoint.name + ".bak")
                if backup.exists() and _parses(backup):
                    checkpoint.write_bytes(backup.read_bytes())
                    done.append(f"{slug}: restored the previous checkpoint from {backup.name}")
        return done

    def repair(self, slug: str, on_event: EventSink | None = None) -> list[str]:
        """Bring a stack back after a killed update: break a dead process's lock, clear pending ops, refresh."""
        done: list[str] = self.heal_backend()
        for lock in self.stale_locks(slug):
            lock.unlink(missing_ok=True)
            done.append(f"removed stale lock {lock.name}")
        stack = self._select(slug)
        state = stack.export_stack()
        deployment = dict(state.deployment or {})
        pending = deployment.get("pending_operations") or []
        for job in self._delete_unrecorded_jobs(pending):
            done.append(f"deleted Job {job}, which the dead engine may have made: its template cannot change in place")
        if pending:
            # Pending creates are objects the engine may have made but not recorded: they are
            # dropped from the state, and the next up applies them again under the stack's own
            # field manager (components/fieldmanager.py), so it takes over what is already there.
            self.refresh(slug, on_event=on_event, clear_pending_creates=True)
            done.append(f"cleared {len(pending)} pending operation(s)")
            state = stack.export_stack()
            deployment = dict(state.deployment or {})
            if deployment.get("pending_operations"):
                deployment["pending_operations"] = []
                stack.import_stack(auto.Deployment(version=state.version, deployment=deployment))
        self.refresh(slug, on_event=on_event)
        done.append("refreshed")
        return done


    def _delete_unrecorded_jobs(self, pending: list[dict[str, Any]]) -> list[str]:
        """Delete the live Jobs among pending creates, and wait until they are gone.

        Every other object a dead engine made but did not record is simply applied again
        by the next ``up`` (one field manager per stack, components/fieldmanager.py). A Job
        cannot be: its pod template is immutable, so if the spec changed in between (a new
        ``data_generation``, say), that apply would fail. The seed program is idempotent,
        so the Job the next ``up`` makes runs again to the same result.
        """
        jobs = []
        for op in pending:
            resource = op.get("resource") or {}
            meta = (resource.get("inputs") or {}).get("metadata") or {}
            if op.get("type") == "creating" and resource.get("type") == "kubernetes:batch/v1:Job" \
                    and isinstance(meta.get("name"), str) and isinstance(meta.get("namespace"), str):
                jobs.append((meta["namespace"], meta["name"]))
        if not jobs:
            return []
        from kubernetes import client, config
        from kubernetes.client.exceptions import ApiException

        api = config.new_client_from_config(config_file=str(self.environment.kubeconfig))  # type: ignore[no-untyped-call]
        batch = client.BatchV1Api(api)
        deleted = []
        for namespace, name in jobs:
            try:
                batch.delete_namespaced_job(name, namespace, propagation_policy="Background")
            except ApiException as err:
                if err.status == 404:
                    continue
                raise EngineFailed(f"could not delete Job {namespace}/{name} left by a dead engine: {err.reason}") \
                    from None
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    batch.read_namespaced_job(name, namespace)
                except ApiException as err:
                    if err.status == 404:
                        break
                    raise
                time.sleep(0.5)
            else:
                raise EngineFailed(f"Job {namespace}/{name} left by a dead engine is still there after 120 s")
            deleted.append(f"{namespace}/{name}")
        return deleted


def _parses(path: Path) -> bool:
    try:
        json.loads(path.read_bytes() or b"!")
    except (OSError, ValueError):
        return False
    return True


def _events(sink: EventSink | None) -> Callable[[auto.EngineEvent], None] | None:
    if sink is None:
        return None

    def forward(event: auto.EngineEvent) -> None:
        diagnostic = event.diagnostic_event
        if diagnostic is not None and diagnostic.severity == "debug":
            return  # the engine's own RPC chatter: not the story of an operation
        sink(_event_dict(event))

    return forward


def _without_tracebacks(text: str) -> list[str]:
    """The engine's non-empty output lines without the Python tracebacks in it.

    When an update fails, the engine cancels the program and the language host prints a
    ``KeyboardInterrupt`` traceback (twice, chained) under the stack's diagnostics. Those
    twenty-odd lines are noise, and they pushed the real cause (a field conflict, say) out
    of the tail that error messages are built from. A traceback's frames are indented
    deeper than its ``Traceback`` line; the exception line that ends it is kept unless it
    is the cancellation's ``KeyboardInterrupt``, since a program's own error is the cause.
    """
    kept: list[str] = []
    tb_indent: int | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        indent = len(line) - len(line.lstrip())
        if stripped.startswith("Traceback (most recent call last)"):
            tb_indent = indent
            continue
        if tb_indent is not None:
            if indent > tb_indent:
                continue  # a frame
            if indent == tb_indent:
                if stripped.startswith("During handling of the above exception"):
                    continue
                tb_indent = None
                if stripped == "KeyboardInterrupt":
                    continue
            else:
                tb_indent = None
        kept.append(line)
    return kept


def _translate(err: auto.CommandError, slug: str) -> EngineError:
    if isinstance(err, auto.StackNotFoundError):
        return StackMissing(f"no stack {slug!r} in the backend")
    if isinstance(err, auto.ConcurrentUpdateError):
        return StackBusy(f"stack {slug!r} is being updated by another operation")
    # Errors of steps the failure cut off are consequences, not causes: left out of message and detail alike.
    lines = [line for line in _without_tracebacks(str(err)) if not _is_consequence(line)]
    detail = "\n".join(lines[-25:])
    at = next((i for i, line in enumerate(lines) if "error:" in line), None)
    if at is None:
        return EngineFailed(f"{slug}: {lines[-1].strip() if lines else 'engine failed'}", detail)
    # The engine often says "error: 1 error occurred:" and puts the cause on the next lines.
    cause = " ".join(line.strip() for line in lines[at:at + 4] if not line.strip().startswith(("stdout:", "stderr:")))
    return EngineFailed(f"{slug}: {cause[:600]}", detail)


#: Errors of steps the engine cut off because another one failed: never the cause of a failure.
CONSEQUENCES = ("the client connection is closing", "context canceled")


def _is_consequence(line: str) -> bool:
    return any(marker in line for marker in CONSEQUENCES)
