"""Plan classification: every action and reason, ownership, bad input, expiry (fake engine)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sandboxes.reconcile import Action, Ledger, PlanOptions, Reason, apply_plan, build_plan
from tests.reconcile.conftest import OWNER, write_sandbox
from tests.reconcile.fakes import FakeEngine

A, B, C, D = "sandbox-aaaaaa", "sandbox-bbbbbb", "sandbox-cccccc", "sandbox-dddddd"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def plan_of(stacks: Path, engine: FakeEngine, ledger: Ledger, **opts: object):  # type: ignore[no-untyped-def]
    return build_plan(stacks, engine, ledger, OWNER, PlanOptions(at=NOW, **opts))  # type: ignore[arg-type]


def actions(plan) -> dict[str, tuple[Action, Reason]]:  # type: ignore[no-untyped-def]
    return {item.slug: (item.action, item.reason) for item in plan.items}


def converge(stacks: Path, engine: FakeEngine, ledger: Ledger, **opts: object) -> None:
    plan = plan_of(stacks, engine, ledger, **opts)
    outcomes = apply_plan(plan, engine, ledger)
    assert all(o.status == "succeeded" for o in outcomes), outcomes


def test_new_files_are_created_then_unchanged_without_engine_calls(stacks, engine, ledger) -> None:
    for slug in (A, B, C):
        write_sandbox(stacks, slug)
    plan = plan_of(stacks, engine, ledger)
    assert actions(plan) == {s: (Action.CREATE, Reason.NEW_FILE) for s in (A, B, C)}
    assert engine.ops() == [("stacks", "")]  # planning costs one listing, nothing per sandbox
    converge(stacks, engine, ledger)
    engine.calls.clear()
    again = plan_of(stacks, engine, ledger)
    assert actions(again) == {s: (Action.UNCHANGED, Reason.UP_TO_DATE) for s in (A, B, C)}
    assert not again.changes
    assert engine.ops() == [("stacks", "")]


def test_edit_updates_only_that_sandbox(stacks, engine, ledger) -> None:
    for slug in (A, B):
        write_sandbox(stacks, slug)
    converge(stacks, engine, ledger)
    write_sandbox(stacks, B, description="edited")
    plan = plan_of(stacks, engine, ledger)
    assert actions(plan) == {A: (Action.UNCHANGED, Reason.UP_TO_DATE), B: (Action.UPDATE, Reason.SPEC_CHANGED)}
    engine.calls.clear()
    apply_plan(plan, engine, ledger)
    assert engine.ops("up") == [("up", B)]


def test_recorded_stack_missing_in_backend_is_recreated(stacks, engine, ledger) -> None:
    write_sandbox(stacks, A)
    converge(stacks, engine, ledger)
    del engine.state[A]
    assert actions(plan_of(stacks, engine, ledger)) == {A: (Action.CREATE, Reason.STACK_MISSING)}


def test_lost_ledger_is_rebuilt_from_stack_outputs(stacks, engine, tmp_path) -> None:
    for slug in (A, B, C):
        write_sandbox(stacks, slug)
    first = Ledger(tmp_path / "one.json")
    converge(stacks, engine, first)
    write_sandbox(stacks, B, description="changed while the ledger was away")
    engine.state[C].pop("spec_hash")  # e.g. its last up failed before exporting
    fresh = Ledger(tmp_path / "fresh.json")  # a new CI runner
    plan = plan_of(stacks, engine, fresh)
    assert actions(plan) == {A: (Action.UNCHANGED, Reason.UP_TO_DATE), B: (Action.UPDATE, Reason.SPEC_CHANGED),
                             C: (Action.UPDATE, Reason.NO_RECORD)}
    assert sorted(engine.ops("outputs")) == [("outputs", A), ("outputs", B), ("outputs", C)]
    assert fresh.get(A) is not None and fresh.get(A).owner == OWNER  # type: ignore[union-attr]
    engine.calls.clear()
    plan_of(stacks, engine, fresh)
    assert ("outputs", A) not in engine.ops()  # cached now


def test_api_sandboxes_are_never_touched_or_pruned(stacks, engine, ledger) -> None:
    engine.add_foreign(D, owner="api")
    write_sandbox(stacks, A)
    plan = plan_of(stacks, engine, ledger, prune=True)
    assert actions(plan) == {A: (Action.CREATE, Reason.NEW_FILE)}
    # a file here that names an API sandbox's slug is refused, not taken over
    write_sandbox(stacks, D)
    plan = plan_of(stacks, engine, ledger, prune=True)
    assert actions(plan)[D] == (Action.ERROR, Reason.FOREIGN_OWNER)
    assert "'api'" in plan.by_slug()[D].detail
    apply_plan(plan, engine, ledger)
    assert ("up", D) not in engine.ops() and ("destroy", D) not in engine.ops()


def test_file_claiming_another_manager_is_an_error_but_a_person_owner_is_fine(stacks, engine, ledger) -> None:
    write_sandbox(stacks, A, owner="git:other/stacks")
    write_sandbox(stacks, B, owner="jane@example.com")
    write_sandbox(stacks, C, owner=OWNER)
    plan = plan_of(stacks, engine, ledger)
    assert actions(plan) == {A: (Action.ERROR, Reason.FOREIGN_OWNER), B: (Action.CREATE, Reason.NEW_FILE),
                             C: (Action.CREATE, Reason.NEW_FILE)}
    assert [p.slug for p in plan.problems] == [A]


def test_removed_file_is_kept_without_prune_and_destroyed_with_it(stacks, engine, ledger) -> None:
    write_sandbox(stacks, A)
    write_sandbox(stacks, B)
    converge(stacks, engine, ledger)
    (stacks / f"Pulumi.{B}.yaml").unlink()
    assert actions(plan_of(stacks, engine, ledger))[B] == (Action.KEEP, Reason.PRUNE_NOT_ASKED)
    plan = plan_of(stacks, engine, ledger, prune=True)
    assert actions(plan)[B] == (Action.DESTROY, Reason.FILE_REMOVED)
    apply_plan(plan, engine, ledger)
    assert B not in engine.state and ledger.get(B) is None
    assert actions(plan_of(stacks, engine, ledger, prune=True)) == {A: (Action.UNCHANGED, Reason.UP_TO_DATE)}


def test_bad_files_are_per_file_errors_and_never_read_as_removed(stacks, engine, ledger) -> None:
    for slug in (A, B):
        write_sandbox(stacks, slug)
    converge(stacks, engine, ledger)
    (stacks / f"Pulumi.{A}.yaml").write_text("config:\n  sandbox:spec: {slug: [unclosed\n")
    (stacks / f"Pulumi.{C}.yaml").write_text(
        f"config:\n  sandbox:spec: {{slug: {C}, name: c, modules: [msp], colour: red}}\n")
    (stacks / f"Pulumi.{D}.yaml").write_text(
        f"config:\n  sandbox:spec: {{slug: {A}, name: d, modules: [msp]}}\n")  # claims another slug
    write_sandbox(stacks, "sandbox-eeeeee")
    plan = plan_of(stacks, engine, ledger, prune=True)
    got = actions(plan)
    assert got[A] == (Action.ERROR, Reason.INVALID_FILE)  # not destroyed although its file is unusable
    assert got[C] == (Action.ERROR, Reason.INVALID_FILE)
    assert got[D] == (Action.ERROR, Reason.INVALID_FILE)
    assert got["sandbox-eeeeee"] == (Action.CREATE, Reason.NEW_FILE)  # the rest still runs
    assert got[B] == (Action.UNCHANGED, Reason.UP_TO_DATE)
    reasons = {p.slug: p.reason for p in plan.problems}
    assert "malformed YAML" in reasons[A]
    assert "colour: unknown field" in reasons[C]
    assert "spec says slug" in reasons[D]
    assert all(p.path.name.startswith("Pulumi.") for p in plan.problems)
    assert plan.has_errors


def test_child_needs_its_parent_here_or_in_the_backend(stacks, engine, ledger) -> None:
    write_sandbox(stacks, B, parent=A, data="copy")  # A: no file, no stack
    write_sandbox(stacks, C, parent=D, data="copy")  # D: an existing (API) stack
    engine.add_foreign(D)
    plan = plan_of(stacks, engine, ledger)
    assert actions(plan) == {B: (Action.ERROR, Reason.PARENT_MISSING), C: (Action.CREATE, Reason.NEW_FILE)}
    assert "no stack file here and no stack in the backend" in plan.by_slug()[B].detail
    # a parent whose file is broken and that has no stack blocks its child
    (stacks / f"Pulumi.{A}.yaml").write_text("config: [")
    assert actions(plan_of(stacks, engine, ledger))[B] == (Action.ERROR, Reason.PARENT_MISSING)


def test_parent_cycle_is_an_error(stacks, engine, ledger) -> None:
    write_sandbox(stacks, A, parent=B)
    write_sandbox(stacks, B, parent=A)
    write_sandbox(stacks, C, parent=A)
    got = actions(plan_of(stacks, engine, ledger))
    assert got[A] == got[B] == (Action.ERROR, Reason.PARENT_CYCLE)
    assert got[C] == (Action.ERROR, Reason.PARENT_MISSING)


def test_expiry(stacks, engine, ledger) -> None:
    past, soon, later = NOW - timedelta(hours=1), NOW + timedelta(hours=3), NOW + timedelta(days=3)
    write_sandbox(stacks, A, platform={"expires_at": later.isoformat()})
    write_sandbox(stacks, B, platform={"expires_at": later.isoformat()})
    write_sandbox(stacks, C, platform={"expires_at": soon.isoformat()})
    converge(stacks, engine, ledger)
    write_sandbox(stacks, B, platform={"expires_at": past.isoformat()})  # shortened: the stack exists
    write_sandbox(stacks, D, platform={"expires_at": past.isoformat()})  # never created
    plan = plan_of(stacks, engine, ledger)
    got = actions(plan)
    assert got[B] == (Action.KEEP, Reason.EXPIRED_NOT_PRUNED)
    assert got[D] == (Action.UNCHANGED, Reason.EXPIRED_NOT_CREATED)
    assert [i.slug for i in plan.expiring_soon] == [C]
    assert not plan.changes
    pruned = plan_of(stacks, engine, ledger, prune=True)
    assert actions(pruned)[B] == (Action.DESTROY, Reason.EXPIRED)
    assert "expired at" in pruned.by_slug()[B].detail
    apply_plan(pruned, engine, ledger)
    assert B not in engine.state and D not in engine.state


def test_drift_is_planned_as_refresh_then_update(stacks, engine, ledger) -> None:
    write_sandbox(stacks, A)
    write_sandbox(stacks, B)
    converge(stacks, engine, ledger)
    engine.drift[A] = {"update": 1}
    assert not plan_of(stacks, engine, ledger).changes  # drift is looked for only when asked
    plan = plan_of(stacks, engine, ledger, detect_drift=True)
    assert actions(plan) == {A: (Action.UPDATE, Reason.DRIFT), B: (Action.UNCHANGED, Reason.UP_TO_DATE)}
    assert plan.by_slug()[A].detail == "1 to update"
    engine.calls.clear()
    apply_plan(plan, engine, ledger)
    assert engine.ops() == [("refresh", A), ("up", A)]
    assert not plan_of(stacks, engine, ledger, detect_drift=True).changes


def test_prune_waits_for_children_and_is_blocked_by_living_ones(stacks, engine, ledger) -> None:
    write_sandbox(stacks, A)
    write_sandbox(stacks, B, parent=A, data="copy")
    write_sandbox(stacks, C, parent=B, data="copy")
    converge(stacks, engine, ledger)
    (stacks / f"Pulumi.{A}.yaml").unlink()
    plan = plan_of(stacks, engine, ledger, prune=True)
    assert actions(plan)[A] == (Action.KEEP, Reason.CHILD_PRESENT)
    assert B in plan.by_slug()[A].detail
    for slug in (B, C):
        (stacks / f"Pulumi.{slug}.yaml").unlink()
    plan = plan_of(stacks, engine, ledger, prune=True)
    assert {i.slug for i in plan.changes} == {A, B, C}
    engine.calls.clear()
    outcomes = apply_plan(plan, engine, ledger, parallel=4)
    assert all(o.status == "succeeded" for o in outcomes), outcomes
    assert [slug for _, slug in engine.ops("destroy")] == [C, B, A]  # children first (the fake refuses otherwise)
    assert not engine.state


def test_plan_lists_parents_before_children(stacks, engine, ledger) -> None:
    write_sandbox(stacks, D)
    write_sandbox(stacks, A, parent=C, data="copy")
    write_sandbox(stacks, C, parent=D, data="copy")
    assert [i.slug for i in plan_of(stacks, engine, ledger).items] == [D, C, A]


def test_child_of_a_parent_that_expired_unborn_is_an_error(stacks, engine, ledger) -> None:
    write_sandbox(stacks, A, platform={"expires_at": (NOW - timedelta(days=1)).isoformat()})
    write_sandbox(stacks, B, parent=A, data="copy")
    plan = plan_of(stacks, engine, ledger)
    assert actions(plan) == {A: (Action.UNCHANGED, Reason.EXPIRED_NOT_CREATED),
                             B: (Action.ERROR, Reason.PARENT_MISSING)}
    assert "expired and was never created" in plan.by_slug()[B].detail


def test_a_failed_remediation_is_remembered_although_the_refresh_hid_the_drift(stacks, engine, ledger) -> None:
    from sandboxes.reconcile import check_drift

    write_sandbox(stacks, A)
    converge(stacks, engine, ledger)
    engine.drift[A] = {"update": 1}
    engine.fail[A] = "Server-Side Apply field conflict"
    [report] = check_drift(engine, [A], remediate=True, ledger=ledger)
    assert report.remediated is False and "conflict" in report.remediation_error
    assert ledger.get(A).remediation_pending  # type: ignore[union-attr]
    assert not engine.drift  # the refresh took the live values into the state
    [again] = check_drift(engine, [A], ledger=ledger)
    assert again.drifted and again.changes == {"remediation pending": 1}
    plan = plan_of(stacks, engine, ledger)
    assert actions(plan) == {A: (Action.UPDATE, Reason.DRIFT)}
    assert "remediation pending" in plan.by_slug()[A].detail
    del engine.fail[A]
    engine.calls.clear()
    assert all(o.status == "succeeded" for o in apply_plan(plan, engine, ledger))
    assert engine.ops() == [("refresh", A), ("up", A)]
    assert not ledger.get(A).remediation_pending  # type: ignore[union-attr]
    assert not plan_of(stacks, engine, ledger).changes


def test_another_directorys_sandbox_is_not_adopted(tmp_path, engine) -> None:
    from sandboxes.reconcile import default_path

    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    mine.mkdir()
    theirs.mkdir()
    their_ledger = Ledger(default_path(theirs, "fake://"), directory=theirs, backend="fake://")
    write_sandbox(theirs, A)
    engine.stacks_dir = theirs
    converge(theirs, engine, their_ledger)
    engine.stacks_dir = mine
    write_sandbox(mine, A)  # the same slug declared in a second directory
    write_sandbox(mine, B)
    my_ledger = Ledger(default_path(mine, "fake://"), directory=mine, backend="fake://")
    plan = build_plan(mine, engine, my_ledger, "git:mine", PlanOptions(at=NOW, prune=True))
    assert actions(plan) == {A: (Action.ERROR, Reason.FOREIGN_OWNER), B: (Action.CREATE, Reason.NEW_FILE)}
    assert str(theirs) in plan.by_slug()[A].detail
    apply_plan(plan, engine, my_ledger)
    assert engine.ops("up").count(("up", A)) == 1 and my_ledger.get(A) is None  # only their own apply
