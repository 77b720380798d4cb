"""Apply: parents first, bounded parallelism, failures isolated, children of a failure skipped."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandboxes.reconcile import Action, Ledger, PlanOptions, apply_plan, build_plan, dependencies
from tests.reconcile.conftest import OWNER, write_sandbox
from tests.reconcile.fakes import FakeEngine

P, C1, C2, G, X = "sandbox-pppppp", "sandbox-c11111", "sandbox-c22222", "sandbox-gggggg", "sandbox-xxxxxx"


def test_children_wait_for_parents_and_parallelism_is_bounded(stacks: Path, ledger: Ledger) -> None:
    engine = FakeEngine(stacks, delay=0.05)
    write_sandbox(stacks, P)
    write_sandbox(stacks, C1, parent=P, data="copy")
    write_sandbox(stacks, C2, parent=P, data="copy")
    write_sandbox(stacks, G, parent=C1, data="copy")
    for i in range(6):
        write_sandbox(stacks, f"sandbox-free0{i}")
    plan = build_plan(stacks, engine, ledger, OWNER, PlanOptions())
    deps = dependencies(plan)
    assert deps[C1] == {P} and deps[G] == {C1} and deps[P] == set()
    seen: list[tuple[str, str]] = []
    outcomes = apply_plan(plan, engine, ledger, parallel=3, progress=lambda s, status, d: seen.append((s, status)))
    assert all(o.status == "succeeded" for o in outcomes), outcomes
    order = [slug for _, slug in engine.ops("up")]
    assert order.index(P) < order.index(C1) < order.index(G) and order.index(P) < order.index(C2)
    assert 1 < engine.max_active <= 3
    assert (G, "waiting") in seen and (G, "running") in seen and (G, "succeeded") in seen
    assert [o.slug for o in outcomes] == [i.slug for i in plan.changes]


def test_a_failure_skips_only_its_descendants(stacks: Path, engine: FakeEngine, ledger: Ledger) -> None:
    write_sandbox(stacks, P)
    write_sandbox(stacks, C1, parent=P, data="copy")
    write_sandbox(stacks, G, parent=C1, data="copy")
    write_sandbox(stacks, X)
    engine.fail[P] = "quota exceeded"
    plan = build_plan(stacks, engine, ledger, OWNER, PlanOptions())
    outcomes = {o.slug: o for o in apply_plan(plan, engine, ledger, parallel=2)}
    assert outcomes[P].status == "failed" and "quota exceeded" in outcomes[P].detail
    assert outcomes[C1].status == "skipped" and outcomes[C1].detail == f"parent {P} failed"
    assert outcomes[G].status == "skipped" and outcomes[G].detail == f"parent {C1} skipped"
    assert outcomes[X].status == "succeeded"
    assert ledger.get(P) is None and ledger.get(X) is not None
    # the failed ones are retried next time, the good one is left alone
    del engine.fail[P]
    again = build_plan(stacks, engine, ledger, OWNER, PlanOptions())
    assert {i.slug for i in again.changes} == {P, C1, G}


def test_unexpected_exception_is_contained(stacks: Path, engine: FakeEngine, ledger: Ledger) -> None:
    write_sandbox(stacks, P)
    write_sandbox(stacks, X)
    plan = build_plan(stacks, engine, ledger, OWNER, PlanOptions())
    original = engine.up

    def boom(slug: str, on_event=None):  # type: ignore[no-untyped-def]
        if slug == P:
            raise KeyError("surprise")
        return original(slug, on_event)

    engine.up = boom  # type: ignore[method-assign]
    outcomes = {o.slug: o for o in apply_plan(plan, engine, ledger)}
    assert outcomes[P].status == "failed" and "KeyError" in outcomes[P].detail
    assert outcomes[X].status == "succeeded"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parents=st.lists(st.integers(min_value=-1, max_value=10), min_size=1, max_size=10), parallel=st.integers(1, 4))
def test_any_forest_is_created_parents_first_and_pruned_children_first(tmp_path_factory, parents, parallel) -> None:  # type: ignore[no-untyped-def]
    stacks = tmp_path_factory.mktemp("stacks")
    ledger = Ledger(stacks.parent / f"{stacks.name}.json")
    engine = FakeEngine(stacks)
    slugs = [f"sandbox-n{i:05d}" for i in range(len(parents))]
    for i, p in enumerate(parents):
        parent = slugs[p] if 0 <= p < i else None  # only earlier nodes: a forest, never a cycle
        write_sandbox(stacks, slugs[i], parent=parent, data="copy" if parent else "blank")
    plan = build_plan(stacks, engine, ledger, OWNER, PlanOptions())
    assert all(i.action is Action.CREATE for i in plan.items)
    assert all(o.status == "succeeded" for o in apply_plan(plan, engine, ledger, parallel=parallel))
    for slug in slugs:
        (stacks / f"Pulumi.{slug}.yaml").unlink()
    plan = build_plan(stacks, engine, ledger, OWNER, PlanOptions(prune=True))
    assert all(i.action is Action.DESTROY for i in plan.items)
    assert all(o.status == "succeeded" for o in apply_plan(plan, engine, ledger, parallel=parallel))
    assert not engine.state


def test_engine_errors_are_explained_with_the_providers_bullet_lines() -> None:
    from sandboxes.engine import EngineFailed
    from sandboxes.reconcile.model import explain

    detail = ("  kubernetes:apps/v1:Deployment (x-web):\n    error: 1 error occurred:\n"
              "    \t* Server-Side Apply field conflict detected.\nResources:\n")
    err = EngineFailed("sandbox-x: error: 1 error occurred:", detail)
    assert explain(err) == "sandbox-x: error: 1 error occurred: Server-Side Apply field conflict detected."
    assert explain(EngineFailed("plain")) == "plain"
