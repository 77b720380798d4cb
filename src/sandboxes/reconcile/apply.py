"""Carrying out a plan: parents before children, children before a pruned parent, in parallel.

Each change is one task. A create/update of a child waits for its parent's create/update
(a ``copy`` reads its parent's database); a destroy of a parent waits for its children's
destroys. Up to ``parallel`` tasks run at once, each in its own thread driving one engine
operation (the Automation API starts one ``pulumi`` process per operation). A failure
ends only its own task; tasks that waited on it are skipped with the reason, the rest
go on. The ledger is written after each success, so an interrupted run keeps its work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from sandboxes.engine import EngineError, EngineFailed
from sandboxes.reconcile.ledger import Ledger
from sandboxes.reconcile.model import Action, Outcome, Plan, PlanItem, Reason, explain
from sandboxes.reconcile.ports import EnginePort

__all__ = ["ProgressSink", "apply_plan", "dependencies"]

ProgressSink = Callable[[str, str, str], None]
"""``(slug, status, detail)``; status is waiting, running, succeeded, failed or skipped."""


def dependencies(plan: Plan) -> dict[str, set[str]]:
    """For each change, the changes that must succeed before it may start."""
    changes = {item.slug: item for item in plan.changes}
    deps: dict[str, set[str]] = {slug: set() for slug in changes}
    for slug, item in changes.items():
        parent = changes.get(item.parent) if item.parent else None
        if parent is None:
            continue
        if item.action is not Action.DESTROY and parent.action is not Action.DESTROY:
            deps[slug].add(parent.slug)  # build the parent first
        elif item.action is Action.DESTROY and parent.action is Action.DESTROY:
            deps[parent.slug].add(slug)  # tear the child down first
    return deps


def _run(item: PlanItem, engine: EnginePort, remediator: EnginePort, ledger: Ledger, owner: str,
         progress: ProgressSink) -> Outcome:
    started = time.monotonic()

    def on_event(event: dict[str, Any]) -> None:
        if event.get("type") in ("resource-pre", "resource-done") and event.get("op") != "same":
            kind = str(event.get("resource_type", "")).rsplit(":", 1)[-1]
            progress(item.slug, "running", f"{event.get('op')} {kind}")

    try:
        progress(item.slug, "running", item.action.value)
        if item.action is Action.DESTROY:
            result = engine.destroy(item.slug, on_event=on_event, remove=True)
            if result.result != "succeeded":
                raise EngineFailed(f"destroy ended {result.result}")
            ledger.forget(item.slug)
        else:
            if item.reason is Reason.DRIFT:
                # ``up`` alone leaves an out-of-band change in place; refresh, then up with
                # forced field ownership (see ``drift``).
                remediator.refresh(item.slug, on_event=on_event)
                result = remediator.up(item.slug, on_event=on_event)
            else:
                result = engine.up(item.slug, on_event=on_event)
            if result.result != "succeeded":
                raise EngineFailed(f"up ended {result.result}")
            ledger.record(item.slug, item.spec_hash, owner, parent=item.parent)
        changes = ", ".join(f"{n} {op}" for op, n in sorted(result.changes.items()) if op != "same" and n)
        return Outcome(item.slug, item.action, "succeeded", changes or "no resource changes",
                       time.monotonic() - started)
    except EngineError as err:
        if item.reason is Reason.DRIFT:
            ledger.set_remediation_pending(item.slug, True)
        return Outcome(item.slug, item.action, "failed", explain(err), time.monotonic() - started)
    except Exception as err:  # one sandbox's surprise must not stop the others
        return Outcome(item.slug, item.action, "failed", f"{type(err).__name__}: {err}", time.monotonic() - started)


def apply_plan(plan: Plan, engine: EnginePort, ledger: Ledger, parallel: int = 4,
               progress: ProgressSink | None = None, remediator: EnginePort | None = None) -> list[Outcome]:
    """Run every change of ``plan``; outcomes in plan order.

    ``remediator`` runs the refresh + up of drifted sandboxes: an engine that forces field
    ownership (``open_engine(..., force_conflicts=True)``); default ``engine``.
    """
    fixer = remediator or engine
    sink: ProgressSink = progress or (lambda slug, status, detail: None)
    items = {item.slug: item for item in plan.changes}
    deps = dependencies(plan)
    outcomes: dict[str, Outcome] = {}
    for slug in items:
        sink(slug, "waiting", items[slug].action.value)

    def blocked_by(slug: str) -> str | None:
        for dep in sorted(deps[slug]):
            done = outcomes.get(dep)
            if done is not None and done.status != "succeeded":
                return dep
        return None

    pending = set(items)
    running: dict[Future[Outcome], str] = {}
    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="apply") as pool:
        while pending or running:
            progressed = True
            while progressed:  # skipping may unblock further skips
                progressed = False
                for slug in sorted(pending):
                    dep = blocked_by(slug)
                    if dep is not None:
                        item = items[slug]
                        relation = "child" if item.action is Action.DESTROY else "parent"
                        why = f"{relation} {dep} {outcomes[dep].status}"
                        outcomes[slug] = Outcome(slug, item.action, "skipped", why)
                        sink(slug, "skipped", why)
                        pending.discard(slug)
                        progressed = True
            for slug in sorted(pending):
                if len(running) >= max(1, parallel):
                    break
                if all(dep in outcomes for dep in deps[slug]):
                    pending.discard(slug)
                    running[pool.submit(_run, items[slug], engine, fixer, ledger, plan.owner, sink)] = slug
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                slug = running.pop(future)
                outcome = future.result()
                outcomes[slug] = outcome
                sink(slug, outcome.status, outcome.detail)
    for slug in sorted(pending):  # unreachable with a parent forest; kept so no change is silently lost
        outcomes[slug] = Outcome(slug, items[slug].action, "skipped", "its dependencies never ran")
    return [outcomes[item.slug] for item in plan.changes]
