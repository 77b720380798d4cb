"""The service's rules with the fake engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import text

from sandboxes import stackfiles
from sandboxes.service import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    OperationKind,
    OperationStatus,
    SandboxCreate,
    SandboxService,
    SandboxStatus,
    SandboxUpdate,
    Unauthenticated,
)
from sandboxes.service.fake_engine import FakeEngine
from sandboxes.service.ports import NullDispatcher
from sandboxes.service.principal import Role
from sandboxes.service.runner import recover
from sandboxes.store.models import OperationRecord, SandboxRecord
from tests.service.fixtures import ACME, ADMIN, GLOBEX, make


def test_create_records_writes_stack_file_and_runs_up(service: SandboxService) -> None:
    accepted = service.create(ACME, SandboxCreate(name="API Integration Test", modules=["cpo"]))  # type: ignore[list-item]
    slug = accepted.sandbox.slug
    assert re.fullmatch(r"sandbox-[0-9a-z]{6}", slug)
    assert accepted.sandbox.provider_id == "acme" and accepted.sandbox.owner == "api"
    assert accepted.operation.kind == "up" and accepted.operation.requested_by == "alice@acme"
    stack = stackfiles.read(stackfiles.path_for(service.stacks_dir, slug))
    assert stack.owner == "api" and stack.spec.name == "API Integration Test"
    sandbox = service.get(ACME, slug)
    assert sandbox.status == SandboxStatus.READY and sandbox.url == f"http://{slug}.sandboxes.localhost"
    op = service.get_operation(ACME, accepted.operation.id)
    assert op.status == OperationStatus.SUCCEEDED and op.summary and op.summary["outputs"]["api_secret"] == "[secret]"
    assert service.operation_events(ACME, op.id)[-1].event["type"] == "operation-finished"


def test_provider_admin_creates_only_for_own_provider(service: SandboxService) -> None:
    with pytest.raises(Forbidden):
        make(service, ACME, provider_id="globex")
    with pytest.raises(Forbidden):
        make(service, ACME, live_provider_id="acme-live")
    assert service.get(ACME, make(service, ACME, provider_id="acme")).provider_id == "acme"


def test_system_admin_may_create_prospect_and_set_live_provider(service: SandboxService) -> None:
    prospect = service.get(ADMIN, make(service, ADMIN))
    assert prospect.provider_id is None
    linked = service.get(ADMIN, make(service, ADMIN, provider_id="globex", live_provider_id="globex-live"))
    assert linked.provider_id == "globex" and linked.live_provider_id == "globex-live"
    with pytest.raises(NotFound):
        service.get(ACME, prospect.slug)


def test_parent_must_exist_and_be_visible(service: SandboxService) -> None:
    theirs = make(service, GLOBEX)
    with pytest.raises(Invalid) as err:
        make(service, ACME, parent=theirs)
    assert err.value.problems[0][0] == "parent"
    with pytest.raises(Invalid):
        make(service, ACME, parent="sandbox-zzzzzz")
    with pytest.raises(Invalid) as err:
        make(service, ACME, data="copy")
    assert "parent" in err.value.problems[0][1]
    mine = make(service, ACME)
    child = make(service, ACME, parent=mine, data="copy")
    assert service.get(ACME, child).parent == mine
    assert [s.slug for s in service.list(ACME, parent=mine).items] == [child]


def test_visibility_and_filters(service: SandboxService) -> None:
    a1, a2, g1 = make(service, ACME), make(service, ACME), make(service, GLOBEX)
    assert {s.slug for s in service.list(ACME).items} == {a1, a2}
    assert service.list(ACME, provider_id="globex").total == 0
    assert {s.slug for s in service.list(ADMIN, provider_id="globex").items} == {g1}
    assert service.list(ADMIN, status=SandboxStatus.READY).total == 3
    with pytest.raises(NotFound):
        service.get(ACME, g1)
    with pytest.raises(NotFound):
        service.get(ACME, "not-a-slug")
    page1, page2 = service.list(ADMIN, limit=2), service.list(ADMIN, limit=2, offset=2)
    assert page1.total == 3 and len(page1.items) == 2 and len(page2.items) == 1
    assert not {s.slug for s in page1.items} & {s.slug for s in page2.items}
    with pytest.raises(Invalid):
        service.list(ADMIN, limit=0)


def test_update_name_rewrites_stack_file(service: SandboxService) -> None:
    slug = make(service)
    accepted = service.update(ACME, slug, SandboxUpdate(name="Renamed", description="for training"))
    assert accepted.operation.kind == "up"
    spec = stackfiles.read(stackfiles.path_for(service.stacks_dir, slug)).spec
    assert (spec.name, spec.description) == ("Renamed", "for training")
    assert service.get(ACME, slug).name == "Renamed"
    with pytest.raises(Invalid):
        service.update(ACME, slug, SandboxUpdate())
    with pytest.raises(NotFound):
        service.update(GLOBEX, slug, SandboxUpdate(name="x"))


def test_settings_merge_and_validation(service: SandboxService) -> None:
    slug = make(service)
    service.update_settings(
        ACME, slug, {"billing": {"invoicing": True}, "look_and_feel": {"light": {"primary": "#112233"}}}
    )
    current = service.get_settings(ACME, slug)
    assert current.billing.invoicing is True and current.look_and_feel.light.primary == "#112233"
    assert current.look_and_feel.light.secondary == "#00a3e0"  # untouched keys keep their values
    assert stackfiles.read(stackfiles.path_for(service.stacks_dir, slug)).spec.settings == current
    with pytest.raises(Invalid) as err:
        service.update_settings(ACME, slug, {"look_and_feel": {"light": {"primary": "blue"}}})
    assert err.value.problems[0][0] == "settings.look_and_feel.light.primary"
    with pytest.raises(Invalid):
        service.update_settings(ACME, slug, {"product_selection": {"visible_modules": ["msp"]}})
    service.update_settings(ACME, slug, {"billing": None})
    assert service.get_settings(ACME, slug).billing.invoicing is False


def test_delete_needs_confirmation_and_is_permanent(service: SandboxService) -> None:
    slug = make(service)
    with pytest.raises(Invalid) as err:
        service.delete(ACME, slug, "sandbox-wrong1")
    assert err.value.problems[0][0] == "confirm"
    with pytest.raises(NotFound):
        service.delete(GLOBEX, slug, slug)
    accepted = service.delete(ACME, slug, slug)
    assert accepted.sandbox.status == SandboxStatus.DELETING
    with pytest.raises(NotFound):
        service.get(ACME, slug)
    assert not stackfiles.path_for(service.stacks_dir, slug).exists()
    assert service.get_operation(ACME, accepted.operation.id).status == OperationStatus.SUCCEEDED
    assert [op.kind for op in service.list_operations(ACME, sandbox=slug)] == ["destroy", "up"]


def test_second_operation_conflicts_with_active_one(service: SandboxService) -> None:
    slug = make(service)
    service.dispatcher = NullDispatcher()  # leave the next operation queued
    first = service.refresh(ACME, slug)
    with pytest.raises(Conflict) as err:
        service.update_settings(ACME, slug, {"billing": {"invoicing": True}})
    assert err.value.operation_id == first.operation.id
    assert service.get_settings(ACME, slug).billing.invoicing is False  # the loser changed nothing
    with pytest.raises(Conflict):
        service.delete(ACME, slug, slug)
    assert service.get(ACME, slug).active_operation_id == first.operation.id


def test_sandbox_owned_elsewhere_is_read_only(service: SandboxService) -> None:
    slug = make(service)
    with service.db.session() as session:
        rec = session.get(SandboxRecord, slug)
        assert rec is not None
        rec.owner = "git:/srv/stacks"
    assert service.get(ACME, slug).owner == "git:/srv/stacks"
    for attempt in (lambda: service.update(ACME, slug, SandboxUpdate(name="x")),
                    lambda: service.update_settings(ACME, slug, {"billing": {"invoicing": True}}),
                    lambda: service.delete(ACME, slug, slug)):
        with pytest.raises(Forbidden):
            attempt()


def test_slug_collision_draws_again(service: SandboxService) -> None:
    taken = make(service)
    draws = iter([taken, taken, "sandbox-new001"])
    service.slug_factory = lambda: next(draws)
    assert make(service) == "sandbox-new001"


def test_failed_engine_is_recorded(service: SandboxService) -> None:
    accepted = service.create(ACME, SandboxCreate(name="fail-engine", modules=["msp"]))  # type: ignore[list-item]
    op = service.get_operation(ACME, accepted.operation.id)
    assert op.status == OperationStatus.FAILED and op.error and "fake failure" in op.error
    assert service.get(ACME, accepted.sandbox.slug).status == SandboxStatus.FAILED
    service.update(ACME, accepted.sandbox.slug, SandboxUpdate(name="fixed"))
    assert service.get(ACME, accepted.sandbox.slug).status == SandboxStatus.READY


def test_dead_worker_is_failed_at_start_up_and_next_operation_repairs(service: SandboxService) -> None:
    slug = make(service)
    service.dispatcher, inline = NullDispatcher(), service.dispatcher
    running = service.refresh(ACME, slug).operation.id
    queued_slug = make(service, ACME)  # its up stays queued
    with service.db.session() as session:
        op = session.get(OperationRecord, running)
        assert op is not None
        op.status, op.worker_pid, op.worker_host = "running", 2**22 + 12345, None  # no such process
    failed, queued = recover(service.db)
    assert failed == [running] and len(queued) == 1
    assert service.get_operation(ACME, running).status == OperationStatus.FAILED
    assert service.get(ACME, slug).needs_repair
    service.dispatcher = inline
    for op_id in queued:
        inline.submit(op_id)
    assert service.get(ACME, queued_slug).status == SandboxStatus.READY
    nxt = service.update_settings(ACME, slug, {"billing": {"invoicing": True}})
    events = [e.event for e in service.operation_events(ACME, nxt.operation.id)]
    assert events[0]["type"] == "repair"
    assert service.get_operation(ACME, nxt.operation.id).status == OperationStatus.SUCCEEDED
    assert not service.get(ACME, slug).needs_repair


def test_credentials_only_for_visible_callers(service: SandboxService, engine: FakeEngine) -> None:
    slug = make(service)
    creds = service.credentials(ACME, slug)
    assert creds.api_secret and creds.api_secret == engine.outputs(slug, include_secrets=True)["api_secret"]
    with pytest.raises(NotFound):
        service.credentials(GLOBEX, slug)


def test_secrets_never_stored_in_records(service: SandboxService, engine: FakeEngine) -> None:
    slug = make(service)
    service.update_settings(ACME, slug, {"billing": {"invoicing": True}})
    secrets = engine.outputs(slug, include_secrets=True)
    dump = []
    with service.db.engine.connect() as conn:
        for table in ("sandboxes", "operations", "operation_events", "api_tokens"):
            dump += [json.dumps(list(row), default=str) for row in conn.execute(text(f"SELECT * FROM {table}"))]
    blob = "\n".join(dump)
    assert secrets["api_secret"] not in blob and secrets["database_url"] not in blob
    logs = "".join(p.read_text() for p in (service.settings.data_dir / "logs").rglob("*.log")) \
        if (service.settings.data_dir / "logs").exists() else ""
    assert secrets["api_secret"] not in logs


def test_tokens_are_hashed(service: SandboxService) -> None:
    issued = service.issue_token("ci", Role.PROVIDER_ADMIN, "acme")
    assert issued.token.startswith("sbx_")
    principal = service.authenticate(issued.token)
    assert principal.role == Role.PROVIDER_ADMIN and principal.provider_id == "acme"
    with service.db.engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM api_tokens")).scalar_one()
    assert issued.token not in stored and len(stored) == 64
    for bad in (None, "", "sbx_nope", issued.token + "x"):
        with pytest.raises(Unauthenticated):
            service.authenticate(bad)
    with pytest.raises(Invalid):
        service.issue_token("x", Role.PROVIDER_ADMIN, None)


def test_a_revoked_token_stops_working_at_once_and_is_listed_as_revoked(service: SandboxService) -> None:
    keep = service.issue_token("portal", Role.SYSTEM_ADMIN)
    leaked = service.issue_token("ci", Role.PROVIDER_ADMIN, "acme")
    assert [t.name for t in service.list_tokens()] == ["portal", "ci"]
    assert service.authenticate(leaked.token).name == "ci"
    first = service.revoke_token(leaked.id)
    assert first.revoked_at is not None
    with pytest.raises(Unauthenticated, match="revoked"):
        service.authenticate(leaked.token)
    assert service.authenticate(keep.token).name == "portal"
    assert service.revoke_token(leaked.id).revoked_at == first.revoked_at  # idempotent
    assert [t.name for t in service.list_tokens()] == ["portal"]
    listed = service.list_tokens(include_revoked=True)
    assert [(t.name, t.revoked_at is not None) for t in listed] == [("portal", False), ("ci", True)]
    assert all(leaked.token not in t.model_dump_json() for t in listed)
    with pytest.raises(NotFound, match="tokens list"):
        service.revoke_token("nope")


def test_slug_of_a_git_stack_file_is_not_reused(service: SandboxService, tmp_path: object) -> None:
    from pathlib import Path

    git_dir = Path(str(tmp_path)) / "git-stacks"
    git_dir.mkdir()
    (git_dir / "Pulumi.sandbox-git001.yaml").write_text("config: {}\n")
    service.reserved_dirs.append(git_dir)
    draws = iter(["sandbox-git001", "sandbox-api001"])
    service.slug_factory = lambda: next(draws)
    assert make(service) == "sandbox-api001"


def test_reseed_needs_the_slug_then_bumps_the_data_generation_and_runs_up(service: SandboxService) -> None:
    slug = make(service, data="preconfigured")
    with pytest.raises(Invalid, match="re-seed not confirmed"):
        service.reseed(ACME, slug, None)
    with pytest.raises(Invalid):
        service.reseed(ACME, slug, "sandbox-zzzzzz")
    with pytest.raises(NotFound):
        service.reseed(GLOBEX, slug, slug)
    assert service.get(ACME, slug).data_generation == 0
    accepted = service.reseed(ACME, slug, slug)
    assert accepted.operation.kind == OperationKind.UP
    assert service.get_operation(ACME, accepted.operation.id).status == OperationStatus.SUCCEEDED
    assert service.get(ACME, slug).data_generation == 1
    stack = stackfiles.read(stackfiles.path_for(service.settings.effective_stacks_dir, slug))
    assert stack.spec.data_generation == 1
    service.reseed(ACME, slug, slug)
    assert service.get(ACME, slug).data_generation == 2


def test_cancel_queued_operation(service: SandboxService) -> None:
    slug = make(service)
    service.dispatcher = NullDispatcher()
    queued = service.update_settings(ACME, slug, {"billing": {"invoicing": True}}).operation.id
    with pytest.raises(NotFound):
        service.cancel_operation(GLOBEX, queued)
    assert service.cancel_operation(ACME, queued).status == OperationStatus.CANCELLED
    assert service.get(ACME, slug).status == SandboxStatus.READY
    with pytest.raises(Invalid):
        service.cancel_operation(ACME, queued)
    from sandboxes.service.execute import claim

    assert claim(service.db, queued) is False  # a worker handed a cancelled id does nothing
    service.refresh(ACME, slug)  # the sandbox is free again


def test_production_mode_refuses_default_pepper(tmp_path: object) -> None:
    from pydantic import ValidationError

    from sandboxes.settings import Settings

    with pytest.raises(ValidationError, match="TOKEN_PEPPER"):
        Settings(mode="production")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Settings(mode="production", token_pepper="short")  # type: ignore[arg-type]
    assert Settings(mode="production", token_pepper="x" * 40).mode == "production"  # type: ignore[arg-type]
    assert "x" * 40 not in repr(Settings(token_pepper="x" * 40))  # type: ignore[arg-type]


def test_events_never_keep_secrets(settings: object, db: object) -> None:
    """The language host's debug lines print secrets unmasked (seen on the real engine): none may be stored."""
    from typing import Any

    from sandboxes.service.execute import SECRET_SIGNATURE
    from sandboxes.service.ports import EventSink
    from sandboxes.service.runner import InlineDispatcher

    class LeakyEngine(FakeEngine):
        def up(self, slug: str, on_event: EventSink | None = None) -> Any:
            result = super().up(slug, on_event=None)
            secret = self.outputs(slug, include_secrets=True)["api_secret"]
            if on_event:
                on_event({"type": "diagnostic", "severity": "debug", "message": f"props value {secret}"})
                on_event({"type": "diagnostic", "severity": "info",
                          "message": f'{{"{SECRET_SIGNATURE}": "x", "value": "{secret}"}}'})
                on_event({"type": "diagnostic", "severity": "warning", "message": f"oops: {secret}"})
            return result

    engine = LeakyEngine(settings.effective_stacks_dir)  # type: ignore[attr-defined]
    svc = SandboxService(settings, db, dispatcher=InlineDispatcher(settings, db, lambda: engine, sync=True),  # type: ignore[arg-type]
                         engine_factory=lambda: engine)
    accepted = svc.create(ACME, SandboxCreate.model_validate({"name": "leaky", "modules": ["cpo"]}))
    secret = engine.outputs(accepted.sandbox.slug, include_secrets=True)["api_secret"]
    events = svc.operation_events(ACME, accepted.operation.id)
    blob = json.dumps([e.event for e in events])
    assert secret not in blob
    assert "debug" not in {e.event.get("severity") for e in events}
    assert any("[secret]" in str(e.event.get("message")) for e in events)
