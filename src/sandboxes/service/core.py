"""``SandboxService``: every business rule of the sandboxes, and nothing else.

Shells (HTTP API, CLI, the API client) call these methods with a ``Principal`` and get
schemas back or one of the service's errors. The rules in one place:

- Visibility: system admins see every sandbox; provider admins only their provider's.
  A sandbox the caller cannot see is reported as not found, never as forbidden, so a
  provider cannot probe another provider's slugs.
- Only system admins choose ``provider_id`` (None makes a prospect sandbox) and set
  ``live_provider_id``; provider admins always create for their own provider.
- Sandboxes owned by anything but this service (``owner`` other than ``api``, e.g. a git
  directory) are read-only here.
- At most one active operation per sandbox, enforced by the database's partial unique
  index: the loser of a race gets ``Conflict`` with the winner's operation id.
- Every change becomes an operation record and runs in a worker process via the
  dispatcher; deletion requires the slug repeated as confirmation.
"""

from __future__ import annotations

import builtins
import copy
import socket
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from sandboxes import stackfiles
from sandboxes.service.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated, Unavailable
from sandboxes.service.ports import Dispatcher, EngineFactory, NullDispatcher
from sandboxes.service.principal import Principal, Role
from sandboxes.service.schemas import (
    Accepted,
    Credentials,
    EventPublic,
    IssuedToken,
    OperationKind,
    OperationPublic,
    OperationStatus,
    SandboxCreate,
    SandboxPage,
    SandboxPublic,
    SandboxStatus,
    SandboxUpdate,
    TokenPublic,
)
from sandboxes.service.tokens import hash_token, new_token
from sandboxes.settings import Settings
from sandboxes.spec import DataMode, SandboxSettings, SandboxSpec, SpecError, is_valid_slug, new_slug, parse_spec
from sandboxes.store.database import Database
from sandboxes.store.models import ACTIVE_STATUSES, EventRecord, OperationRecord, SandboxRecord, TokenRecord

__all__ = ["API_OWNER", "MAX_PAGE", "SandboxService"]

API_OWNER = "api"
MAX_PAGE = 500
_SLUG_ATTEMPTS = 20


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time we return is UTC and says so."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def operation_view(op: OperationRecord) -> OperationPublic:
    return OperationPublic(
        id=op.id, sandbox=op.sandbox_slug, kind=OperationKind(op.kind), status=OperationStatus(op.status),
        requested_by=op.requested_by, created_at=_aware(op.created_at) or datetime.now(UTC),
        started_at=_aware(op.started_at), finished_at=_aware(op.finished_at),
        cancel_requested_at=_aware(op.cancel_requested_at), cancel_requested_by=op.cancel_requested_by,
        error=op.error, summary=op.summary,
    )


def status_after_interruption(rec: SandboxRecord) -> str:
    """A sandbox whose operation ended without finishing (cancelled): still ready if it was ever up."""
    return (SandboxStatus.READY if rec.url else SandboxStatus.FAILED).value


def sandbox_view(rec: SandboxRecord, active_operation_id: str | None = None) -> SandboxPublic:
    spec = rec.spec
    return SandboxPublic(
        slug=rec.slug, name=rec.name, description=spec.get("description", ""), provider_id=rec.provider_id,
        live_provider_id=spec.get("live_provider_id"), parent=rec.parent, modules=spec.get("modules", []),
        data=spec.get("data", DataMode.BLANK), data_generation=int(spec.get("data_generation") or 0),
        status=SandboxStatus(rec.status), owner=rec.owner, url=rec.url,
        spec_hash=rec.spec_hash, created_by=rec.created_by, created_at=_aware(rec.created_at) or datetime.now(UTC),
        updated_at=_aware(rec.updated_at) or datetime.now(UTC), active_operation_id=active_operation_id,
        needs_repair=rec.needs_repair,
    )


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7396 JSON merge patch: nested mappings merge, ``None`` resets a key to its default."""
    out = copy.deepcopy(target)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_patch(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _spec_problems(err: SpecError, prefix_map: dict[str, str] | None = None) -> list[tuple[str, str]]:
    problems = []
    for path, message in err.problems:
        problems.append(((prefix_map or {}).get(path, path), message))
    return problems


class SandboxService:
    """The business rules; see the module docstring. Thread-safe: every call uses its own session."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        dispatcher: Dispatcher | None = None,
        engine_factory: EngineFactory | None = None,
        slug_factory: Callable[[], str] = new_slug,
    ) -> None:
        self.settings = settings
        self.db = db
        self.dispatcher: Dispatcher = dispatcher or NullDispatcher()
        self._engine_factory = engine_factory
        self.slug_factory = slug_factory
        self.stacks_dir = settings.effective_stacks_dir
        self.reserved_dirs = [*settings.reserved_stack_dirs, *_repository_stacks()]

    # --- helpers ---------------------------------------------------------------------------

    def _visible(self, session: Session, principal: Principal, slug: str) -> SandboxRecord:
        rec = session.get(SandboxRecord, slug) if is_valid_slug(slug) else None
        if rec is None or not principal.can_see(rec.provider_id):
            raise NotFound(f"no sandbox {slug!r} (or it belongs to another provider)")
        return rec

    def _mutable(self, session: Session, principal: Principal, slug: str) -> SandboxRecord:
        rec = self._visible(session, principal, slug)
        if rec.owner != API_OWNER:
            raise Forbidden(f"sandbox {slug!r} is owned by {rec.owner!r}: change it there (read-only through the API)")
        if rec.status == SandboxStatus.DELETING:
            active = self._active_id(session, slug)
            raise Conflict(f"sandbox {slug!r} is being deleted", active)
        return rec

    @staticmethod
    def _active_id(session: Session, slug: str) -> str | None:
        return session.scalar(
            select(OperationRecord.id).where(
                OperationRecord.sandbox_slug == slug, OperationRecord.status.in_(ACTIVE_STATUSES)
            )
        )

    def _conflict(self, slug: str) -> Conflict:
        with self.db.session() as session:
            active = self._active_id(session, slug)
        return Conflict(
            f"sandbox {slug!r} has an operation in progress"
            + (f" ({active}): follow it with GET /v1/operations/{active} and retry when it ends" if active else
               ": retry in a moment"),
            active,
        )

    @staticmethod
    def _new_operation(rec: SandboxRecord, kind: OperationKind, principal: Principal,
                       spec: dict[str, Any] | None) -> OperationRecord:
        return OperationRecord(
            id=uuid.uuid4().hex, sandbox_slug=rec.slug, provider_id=rec.provider_id, kind=kind.value,
            requested_by=principal.name, status=OperationStatus.QUEUED.value, spec=spec,
            created_at=datetime.now(UTC),
        )

    def _dispatch(self, op_id: str) -> None:
        self.dispatcher.submit(op_id)

    def _change(
        self,
        principal: Principal,
        slug: str,
        kind: OperationKind,
        mutate: Callable[[SandboxRecord], SandboxSpec | None],
        status: SandboxStatus,
    ) -> Accepted:
        """Apply ``mutate`` and start a ``kind`` operation in one transaction, or raise ``Conflict``."""
        try:
            with self.db.session() as session:
                rec = self._mutable(session, principal, slug)
                active = self._active_id(session, slug)
                if active is not None:
                    raise Conflict(
                        f"sandbox {slug!r} has an operation in progress ({active}): retry when it ends", active
                    )
                spec = mutate(rec)
                if spec is not None:
                    rec.spec = spec.config_value()
                    rec.name = spec.name
                    rec.spec_hash = _hash(spec)
                op = self._new_operation(rec, kind, principal, rec.spec if kind == OperationKind.UP else None)
                session.add(op)
                rec.status = status.value
                rec.updated_at = datetime.now(UTC)
                session.flush()
                accepted = Accepted(sandbox=sandbox_view(rec, op.id), operation=operation_view(op))
                written_spec = spec
        except IntegrityError:
            raise self._conflict(slug) from None
        except OperationalError as err:
            raise Unavailable(f"records database: {type(err.orig).__name__ if err.orig else err}") from None
        if written_spec is not None:
            stackfiles.write(self.stacks_dir, written_spec, owner=API_OWNER)
        self._dispatch(accepted.operation.id)
        return accepted

    # --- sandboxes -------------------------------------------------------------------------

    def create(self, principal: Principal, request: SandboxCreate) -> Accepted:
        """Validate into a spec, allocate a unique slug, record it, write its stack file, start ``up``."""
        provider_id = self._creating_provider(principal, request)
        if request.live_provider_id is not None and not principal.is_system_admin:
            raise Forbidden("only system admins may link a live provider (live_provider_id)")
        raw: dict[str, Any] = request.model_dump(mode="json", exclude_none=True, exclude={"provider_id"})
        raw["provider_id"] = provider_id
        for attempt in range(_SLUG_ATTEMPTS):
            slug = self.slug_factory()
            if self._slug_reserved(slug):
                continue
            try:
                spec = parse_spec({**raw, "slug": slug})
            except SpecError as err:
                raise Invalid("the sandbox request is not valid", _spec_problems(err)) from None
            try:
                with self.db.session() as session:
                    if spec.parent is not None:
                        self._check_parent(session, principal, spec.parent)
                    if session.get(SandboxRecord, slug) is not None:
                        continue
                    rec = SandboxRecord(
                        slug=slug, name=spec.name, provider_id=spec.provider_id, parent=spec.parent,
                        status=SandboxStatus.CREATING.value, owner=API_OWNER, spec=spec.config_value(),
                        spec_hash=_hash(spec), url=None, needs_repair=False, created_by=principal.name,
                        created_at=datetime.now(UTC), updated_at=datetime.now(UTC),
                    )
                    session.add(rec)
                    session.flush()
                    op = self._new_operation(rec, OperationKind.UP, principal, rec.spec)
                    session.add(op)
                    session.flush()
                    accepted = Accepted(sandbox=sandbox_view(rec, op.id), operation=operation_view(op))
            except IntegrityError:
                continue  # slug taken by a concurrent create: draw another
            except OperationalError as err:
                raise Unavailable(f"records database: {type(err.orig).__name__ if err.orig else err}") from None
            del attempt
            stackfiles.write(self.stacks_dir, spec, owner=API_OWNER)
            self._dispatch(accepted.operation.id)
            return accepted
        raise Unavailable(f"could not allocate a free slug in {_SLUG_ATTEMPTS} attempts; retry")

    def _slug_reserved(self, slug: str) -> bool:
        """A slug is taken if any stack file claims it: ours, or the repository's ``stacks/`` (same backend)."""
        dirs = [self.stacks_dir, *self.reserved_dirs]
        return any(stackfiles.path_for(directory, slug).exists() for directory in dirs)

    @staticmethod
    def _creating_provider(principal: Principal, request: SandboxCreate) -> str | None:
        if principal.is_system_admin:
            return request.provider_id
        if request.provider_id is not None and request.provider_id != principal.provider_id:
            raise Forbidden(
                f"provider admins create sandboxes for their own provider ({principal.provider_id!r}) only: "
                "leave provider_id out"
            )
        return principal.provider_id

    def _check_parent(self, session: Session, principal: Principal, parent: str) -> None:
        rec = session.get(SandboxRecord, parent)
        if rec is None or not principal.can_see(rec.provider_id):
            raise Invalid("the parent sandbox does not exist",
                          [("parent", f"no sandbox {parent!r} that you can see: give the slug of an existing one")])
        if rec.status == SandboxStatus.DELETING:
            raise Invalid("the parent sandbox is being deleted", [("parent", f"{parent!r} is being deleted")])

    def list(
        self,
        principal: Principal,
        provider_id: str | None = None,
        parent: str | None = None,
        status: SandboxStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> SandboxPage:
        if not 1 <= limit <= MAX_PAGE:
            raise Invalid("bad page size", [("limit", f"between 1 and {MAX_PAGE}")])
        if offset < 0:
            raise Invalid("bad offset", [("offset", "0 or more")])
        query = select(SandboxRecord)
        if not principal.is_system_admin:
            query = query.where(SandboxRecord.provider_id == principal.provider_id)
        if provider_id is not None:
            query = query.where(SandboxRecord.provider_id == provider_id)
        if parent is not None:
            query = query.where(SandboxRecord.parent == parent)
        if status is not None:
            query = query.where(SandboxRecord.status == status.value)
        with self.db.session() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = list(session.scalars(query.order_by(SandboxRecord.created_at.desc(), SandboxRecord.slug)
                                        .limit(limit).offset(offset)))
            active = self._active_ids(session, (r.slug for r in rows))
            items = [sandbox_view(r, active.get(r.slug)) for r in rows]
        return SandboxPage(items=items, total=total, limit=limit, offset=offset)

    @staticmethod
    def _active_ids(session: Session, slugs: Iterable[str]) -> dict[str, str]:
        wanted = list(slugs)
        if not wanted:
            return {}
        rows = session.execute(
            select(OperationRecord.sandbox_slug, OperationRecord.id).where(
                OperationRecord.sandbox_slug.in_(wanted), OperationRecord.status.in_(ACTIVE_STATUSES)
            )
        )
        return {slug: op_id for slug, op_id in rows}

    def get(self, principal: Principal, slug: str) -> SandboxPublic:
        with self.db.session() as session:
            rec = self._visible(session, principal, slug)
            return sandbox_view(rec, self._active_id(session, slug))

    def find_by_name(self, principal: Principal, name: str) -> SandboxPublic | None:
        """The newest visible sandbox with this exact name (the demo reuses its sandbox this way)."""
        query = select(SandboxRecord).where(SandboxRecord.name == name)
        if not principal.is_system_admin:
            query = query.where(SandboxRecord.provider_id == principal.provider_id)
        with self.db.session() as session:
            rec = session.scalars(query.order_by(SandboxRecord.created_at.desc()).limit(1)).first()
            return sandbox_view(rec, self._active_id(session, rec.slug)) if rec else None

    def update(self, principal: Principal, slug: str, changes: SandboxUpdate) -> Accepted:
        """The edit icon: name/description. Both live in the spec, so the stack file changes and ``up`` runs."""
        patch = changes.model_dump(exclude_none=True)
        if not patch:
            raise Invalid("nothing to change", [("name", "give a new name and/or description")])

        def mutate(rec: SandboxRecord) -> SandboxSpec:
            return self._respec(rec, patch)

        return self._change(principal, slug, OperationKind.UP, mutate, SandboxStatus.UPDATING)

    @staticmethod
    def _respec(rec: SandboxRecord, patch: dict[str, Any]) -> SandboxSpec:
        try:
            return parse_spec({**rec.spec, **patch})
        except SpecError as err:
            raise Invalid("the change would make the sandbox invalid", _spec_problems(err)) from None

    def get_settings(self, principal: Principal, slug: str) -> SandboxSettings:
        with self.db.session() as session:
            rec = self._visible(session, principal, slug)
            return parse_spec(rec.spec).settings

    def update_settings(self, principal: Principal, slug: str, patch: dict[str, Any]) -> Accepted:
        """Merge ``patch`` (RFC 7396: nested keys merge, null resets) into the settings and apply them."""
        if not isinstance(patch, dict) or not patch:
            raise Invalid("nothing to change", [("settings", "send a JSON object with the settings to change")])

        def mutate(rec: SandboxRecord) -> SandboxSpec:
            settings = merge_patch(dict(rec.spec.get("settings") or {}), patch)
            return self._respec(rec, {"settings": settings})

        return self._change(principal, slug, OperationKind.UP, mutate, SandboxStatus.UPDATING)

    def _confirmed(self, principal: Principal, slug: str, confirm: str | None, what: str, consequence: str) -> None:
        """A destructive request must repeat the slug; an unknown slug is still a 404, not a hint to confirm."""
        if confirm == slug:
            return
        with self.db.session() as session:
            self._visible(session, principal, slug)
        raise Invalid(f"{what} not confirmed", [("confirm", f"repeat the slug {slug!r} to confirm: {consequence}")])

    def delete(self, principal: Principal, slug: str, confirm: str | None) -> Accepted:
        """Permanent: destroy every resource, then the stack and its stack file. ``confirm`` must repeat the slug."""
        self._confirmed(principal, slug, confirm, "deletion", "deletion is permanent and cannot be undone")
        return self._change(principal, slug, OperationKind.DESTROY, lambda rec: None, SandboxStatus.DELETING)

    def reseed(self, principal: Principal, slug: str, confirm: str | None) -> Accepted:
        """Wipe the sandbox's business data and seed it again from its ``data`` mode. ``confirm`` repeats the slug.

        It bumps the spec's ``data_generation`` and runs ``up``: the seed Job changes, the
        engine replaces it, and the seed program resets exactly once for that generation
        (a later Job with the same generation does nothing), so a refresh of a masked copy,
        or a return to clean test data, is an ordinary, recorded, repeatable operation.
        """
        self._confirmed(principal, slug, confirm, "re-seed", "every change made in the sandbox's data is lost")

        def mutate(rec: SandboxRecord) -> SandboxSpec:
            return self._respec(rec, {"data_generation": int(rec.spec.get("data_generation") or 0) + 1})

        return self._change(principal, slug, OperationKind.UP, mutate, SandboxStatus.UPDATING)

    def refresh(self, principal: Principal, slug: str) -> Accepted:
        """Re-read the real objects into the stack's state (drift shows up in the next ``up``)."""
        return self._change(principal, slug, OperationKind.REFRESH, lambda rec: None, SandboxStatus.UPDATING)

    def repair(self, principal: Principal, slug: str) -> Accepted:
        """Recover a stack after a crashed update: stale lock, pending creates, refresh."""
        return self._change(principal, slug, OperationKind.REPAIR, lambda rec: None, SandboxStatus.UPDATING)

    def credentials(self, principal: Principal, slug: str) -> Credentials:
        """The sandbox's API credentials (secret outputs of its stack): visible callers only, never logged."""
        with self.db.session() as session:
            rec = self._visible(session, principal, slug)
            url = rec.url
        if self._engine_factory is None:
            raise Unavailable("this service has no engine configured to read credentials")
        from sandboxes.engine import EngineError, StackMissing

        try:
            outputs = self._engine_factory().outputs(slug, include_secrets=True)
        except StackMissing:
            raise NotFound(f"sandbox {slug!r} has no credentials yet: its first operation has not finished") from None
        except EngineError as err:
            raise Unavailable(f"engine backend: {str(err).splitlines()[0][:200]}") from None
        return Credentials(
            slug=slug, url=outputs.get("url") or url, api_key_id=_str(outputs.get("api_key_id")),
            api_secret=_str(outputs.get("api_secret")), database_url=_str(outputs.get("database_url")),
        )

    # --- operations ------------------------------------------------------------------------

    def _op_visible(self, session: Session, principal: Principal, operation_id: str) -> OperationRecord:
        op = session.get(OperationRecord, operation_id) if len(operation_id) <= 32 else None
        if op is None or not principal.can_see(op.provider_id):
            raise NotFound(f"no operation {operation_id!r}")
        return op

    def cancel_operation(self, principal: Principal, operation_id: str) -> OperationPublic:
        """Cancel an operation: a queued one at once; a running one gracefully, by its worker.

        A running engine is never killed: the request is recorded, and the worker running
        the operation (it polls for requests) interrupts ``pulumi`` the way Ctrl-C does, so
        the steps in flight finish, nothing new starts and the state stays consistent. The
        operation then ends ``cancelled`` and the next ``up`` carries on from where it stopped.
        """
        with self.db.session() as session:
            op = self._op_visible(session, principal, operation_id)
            rec = session.get(SandboxRecord, op.sandbox_slug)
            if rec is not None and rec.owner != API_OWNER:
                raise Forbidden(f"sandbox {rec.slug!r} is owned by {rec.owner!r}: read-only through the API")
            if op.status == OperationStatus.RUNNING:
                if op.cancel_requested_at is None:
                    op.cancel_requested_at = datetime.now(UTC)
                    op.cancel_requested_by = principal.name
                session.flush()
                return operation_view(op)
            if op.status != OperationStatus.QUEUED:
                raise Invalid("operation already finished", [("operation_id", f"{op.id} is {op.status}")])
            op.status = OperationStatus.CANCELLED.value
            op.finished_at = datetime.now(UTC)
            op.cancel_requested_at, op.cancel_requested_by = op.finished_at, principal.name
            if rec is not None:
                # Nothing ran: the sandbox is as the last finished operation left it.
                rec.status = status_after_interruption(rec)
                rec.updated_at = datetime.now(UTC)
            session.flush()
            return operation_view(op)

    def get_operation(self, principal: Principal, operation_id: str) -> OperationPublic:
        with self.db.session() as session:
            return operation_view(self._op_visible(session, principal, operation_id))

    def list_operations(self, principal: Principal, sandbox: str | None = None,
                        status: OperationStatus | None = None, limit: int = 50) -> builtins.list[OperationPublic]:
        if not 1 <= limit <= MAX_PAGE:
            raise Invalid("bad page size", [("limit", f"between 1 and {MAX_PAGE}")])
        query = select(OperationRecord)
        if not principal.is_system_admin:
            query = query.where(OperationRecord.provider_id == principal.provider_id)
        if sandbox is not None:
            query = query.where(OperationRecord.sandbox_slug == sandbox)
        if status is not None:
            query = query.where(OperationRecord.status == status.value)
        with self.db.session() as session:
            rows = session.scalars(query.order_by(OperationRecord.created_at.desc()).limit(limit))
            return [operation_view(op) for op in rows]

    def operation_events(self, principal: Principal, operation_id: str, after: int = 0,
                         limit: int = 1000) -> builtins.list[EventPublic]:
        """Engine events of an operation with ``seq > after``, oldest first (poll or stream them)."""
        with self.db.session() as session:
            self._op_visible(session, principal, operation_id)
            rows = session.scalars(
                select(EventRecord).where(EventRecord.operation_id == operation_id, EventRecord.seq > after)
                .order_by(EventRecord.seq).limit(limit)
            )
            return [EventPublic(seq=e.seq, created_at=_aware(e.created_at) or datetime.now(UTC), event=e.payload)
                    for e in rows]

    # --- tokens and health -----------------------------------------------------------------

    def issue_token(self, name: str, role: Role, provider_id: str | None = None) -> IssuedToken:
        """A new bearer token for ``name``; the token is returned once, only its HMAC is stored."""
        try:
            Principal(name=name, role=role, provider_id=provider_id)
        except ValueError as err:
            raise Invalid(str(err), [("provider_id", "required for provider-admin tokens")]) from None
        if role == Role.SYSTEM_ADMIN and provider_id is not None:
            raise Invalid("system admins act for every provider", [("provider_id", "leave it out for system-admin")])
        token = new_token()
        rec = TokenRecord(id=uuid.uuid4().hex, name=name, role=role.value, provider_id=provider_id,
                          token_hash=hash_token(token, self.settings.token_pepper.get_secret_value()),
                          created_at=datetime.now(UTC))
        with self.db.session() as session:
            session.add(rec)
        return IssuedToken(id=rec.id, name=name, role=role.value, provider_id=provider_id, token=token)

    def list_tokens(self, include_revoked: bool = False) -> builtins.list[TokenPublic]:
        """Every token issued, oldest first (revoked ones only when asked)."""
        with self.db.session() as session:
            query = select(TokenRecord).order_by(TokenRecord.created_at, TokenRecord.id)
            if not include_revoked:
                query = query.where(TokenRecord.revoked_at.is_(None))
            return [_token_public(rec) for rec in session.scalars(query)]

    def revoke_token(self, token_id: str) -> TokenPublic:
        """Stop a token from working, at once and for good; revoking twice keeps the first time."""
        with self.db.session() as session:
            rec = session.get(TokenRecord, token_id)
            if rec is None:
                raise NotFound(f"no token {token_id!r}: `sandboxctl tokens list` shows the ids")
            if rec.revoked_at is None:
                rec.revoked_at = datetime.now(UTC)
            session.flush()
            return _token_public(rec)

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise Unauthenticated("send 'Authorization: Bearer <token>' (issue one with `sandboxctl tokens create`)")
        digest = hash_token(token, self.settings.token_pepper.get_secret_value())
        with self.db.session() as session:
            rec = session.scalar(select(TokenRecord).where(TokenRecord.token_hash == digest))
            if rec is None or rec.revoked_at is not None:
                raise Unauthenticated("unknown or revoked token")
            return Principal(name=rec.name, role=Role(rec.role), provider_id=rec.provider_id)

    def ready(self) -> bool:
        return self.db.ping()

    @staticmethod
    def host() -> str:
        return socket.gethostname()


def _token_public(rec: TokenRecord) -> TokenPublic:
    return TokenPublic(id=rec.id, name=rec.name, role=rec.role, provider_id=rec.provider_id,
                       created_at=_aware(rec.created_at) or datetime.now(UTC), revoked_at=_aware(rec.revoked_at))


def _repository_stacks() -> list[Path]:
    """The checkout's ``stacks/`` (git-owned sandboxes share the backend, so their slugs are taken too)."""
    from sandboxes.paths import project_root

    try:
        return [project_root() / "stacks"]
    except RuntimeError:
        return []


def _hash(spec: SandboxSpec) -> str:
    from sandboxes.spec import spec_hash

    return spec_hash(spec)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
