"""Planning: compare the stack files of a directory with what the backend holds.

Desired state is the directory (``stackfiles.scan``); actual state is the backend's
stack list (one engine call) plus the ledger's record of the spec hash last applied.
Only sandboxes whose hash differs, whose stack is missing, or (on request) whose
resources drifted cost further engine calls, so a no-op plan of hundreds of files is
mostly YAML parsing. A bad file is a per-file problem: it never stops the others, and
its slug (taken from the file name) is held so that a typo can never read as "file
removed" and prune a live sandbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sandboxes import stackfiles
from sandboxes.engine import EngineError
from sandboxes.reconcile import expiry
from sandboxes.reconcile.drift import refresh_preview
from sandboxes.reconcile.ledger import Ledger
from sandboxes.reconcile.model import Action, FileProblem, Plan, PlanItem, Reason, ReconcileError
from sandboxes.reconcile.order import cycles, depth_order
from sandboxes.reconcile.ownership import is_manager_claim
from sandboxes.reconcile.parallel import fan_out
from sandboxes.reconcile.ports import EnginePort
from sandboxes.reconcile.prune import block_parents_of_living_children
from sandboxes.spec import spec_hash
from sandboxes.stackfiles import StackFile

__all__ = ["PlanOptions", "build_plan"]

_NAME_RE = re.compile(r"^Pulumi\.(?P<slug>[^.]+)\.yaml$")


@dataclass(frozen=True)
class PlanOptions:
    prune: bool = False
    detect_drift: bool = False
    parallel: int = 4
    at: datetime | None = None


def _slug_of(path: Path) -> str | None:
    match = _NAME_RE.match(path.name)
    return match["slug"] if match else None


def build_plan(directory: Path, engine: EnginePort, ledger: Ledger, owner: str,
               options: PlanOptions | None = None) -> Plan:
    opts = options or PlanOptions()
    at = opts.at or expiry.now()
    plan = Plan(directory=directory, owner=owner, prune=opts.prune)
    items: dict[str, PlanItem] = {}

    files, errors = stackfiles.scan(directory)
    held: set[str] = set()  # slugs whose file exists but is unusable: never created, updated or pruned
    for err in errors:
        slug = _slug_of(err.path)
        plan.problems.append(FileProblem(path=err.path, reason=err.reason, slug=slug))
        if slug:
            held.add(slug)
            items.setdefault(slug, PlanItem(slug, Action.ERROR, Reason.INVALID_FILE, err.reason, path=err.path))

    desired: dict[str, StackFile] = {}
    for stack_file in files:
        slug = stack_file.spec.slug
        if slug in held:  # a second, valid file for a slug already in error: keep the error visible
            continue
        if is_manager_claim(stack_file.owner) and stack_file.owner != owner:
            reason = f"sandbox:owner is {stack_file.owner!r}, not {owner!r}: another manager owns it"
            plan.problems.append(FileProblem(stack_file.path, reason, slug))
            items[slug] = PlanItem(slug, Action.ERROR, Reason.FOREIGN_OWNER, reason, path=stack_file.path)
            held.add(slug)
            continue
        desired[slug] = stack_file

    try:
        backend = set(engine.stacks())
    except Exception as err:  # without the backend's list no decision is safe: stop the whole run
        raise ReconcileError(f"cannot list the backend's stacks: {err}") from err
    parents: dict[str, str | None] = {slug: entry.parent for slug, entry in ledger.entries().items()}
    parents.update({slug: sf.spec.parent for slug, sf in desired.items()})

    # Parents: a child needs its parent declared here or already running as a stack.
    on_cycle = cycles({slug: sf.spec.parent for slug, sf in desired.items()})
    for slug in sorted(on_cycle):
        sf = desired.pop(slug)
        items[slug] = PlanItem(slug, Action.ERROR, Reason.PARENT_CYCLE, f"parent chain returns to {slug}",
                               path=sf.path, parent=sf.spec.parent)
    changed = True
    while changed:
        changed = False
        for slug, sf in list(desired.items()):
            parent = sf.spec.parent
            if parent is None or parent in desired or parent in backend:
                continue  # a parent whose file is in error but whose stack exists still serves its child
            why = (f"parent {parent} is not usable ({items[parent].reason.value})" if parent in items else
                   f"parent {parent} has no stack file here and no stack in the backend")
            items[slug] = PlanItem(slug, Action.ERROR, Reason.PARENT_MISSING, why, path=sf.path, parent=parent)
            plan.problems.append(FileProblem(sf.path, why, slug))
            del desired[slug]
            changed = True

    # Files: create, update, unchanged, expiry.
    to_probe: list[str] = []
    for slug, sf in desired.items():
        digest = spec_hash(sf.spec)
        entry = ledger.get(slug)
        item = PlanItem(slug, Action.UNCHANGED, Reason.UP_TO_DATE, path=sf.path, parent=sf.spec.parent,
                        spec_hash=digest, applied_hash=entry.spec_hash if entry else None,
                        expires_at=sf.spec.platform.expires_at)
        items[slug] = item
        if expiry.expires_soon(sf.spec, at):
            plan.expiring_soon.append(item)
        exists = slug in backend
        if expiry.is_expired(sf.spec, at):
            if not exists:
                item.reason = Reason.EXPIRED_NOT_CREATED
            elif entry is None:
                to_probe.append(slug)  # ownership must be proven before a destroy
            else:
                _expire(item, opts.prune)
            continue
        if not exists:
            item.action, item.reason = Action.CREATE, (Reason.NEW_FILE if entry is None else Reason.STACK_MISSING)
        elif entry is None:
            to_probe.append(slug)
        elif entry.spec_hash != digest:
            item.action, item.reason = Action.UPDATE, Reason.SPEC_CHANGED
        if exists and entry is not None and entry.remediation_pending:
            changed_too = " (and the spec changed)" if item.action is Action.UPDATE else ""
            item.action, item.reason = Action.UPDATE, Reason.DRIFT
            item.detail = f"remediation pending: an earlier refresh took the drift into the state{changed_too}"

    # Stacks that exist but that the ledger does not know: their outputs say what was applied and by whom.
    def probe(slug: str) -> tuple[str, dict[str, object] | None, str]:
        try:
            return slug, engine.outputs(slug), ""
        except EngineError as err:
            return slug, None, str(err)

    elsewhere = ledger.claims_elsewhere() if to_probe else {}
    for slug in [s for s in to_probe if s in elsewhere]:
        to_probe.remove(slug)
        item = items[slug]
        item.action, item.reason = Action.ERROR, Reason.FOREIGN_OWNER
        item.detail = f"stack {slug} was applied by the reconcile of {elsewhere[slug]}: this directory leaves it"
        plan.problems.append(FileProblem(desired[slug].path, item.detail, slug))

    for slug, outputs, error in fan_out(probe, to_probe, opts.parallel):
        item = items[slug]
        if outputs is None:
            item.action, item.reason, item.detail = Action.ERROR, Reason.NO_RECORD, f"cannot read outputs: {error}"
            continue
        out_owner = outputs.get("owner")
        out_hash = outputs.get("spec_hash")
        if is_manager_claim(str(out_owner) if out_owner else None) and out_owner != owner:
            item.action, item.reason = Action.ERROR, Reason.FOREIGN_OWNER
            item.detail = f"stack {slug} is owned by {out_owner!r}: this directory will not touch it"
            plan.problems.append(FileProblem(desired[slug].path, item.detail, slug))
            continue
        applied = str(out_hash) if isinstance(out_hash, str) else None
        ledger.record(slug, applied, owner, parent=desired[slug].spec.parent)
        item.applied_hash = applied
        if item.expires_at is not None and item.expires_at <= at:
            _expire(item, opts.prune)
        elif applied is None:
            item.action, item.reason = Action.UPDATE, Reason.NO_RECORD
        elif applied != item.spec_hash:
            item.action, item.reason = Action.UPDATE, Reason.SPEC_CHANGED

    # A child cannot be built from a parent that expired before it was ever created.
    for slug, item in items.items():
        parent_item = items.get(item.parent) if item.parent else None
        if item.action in (Action.CREATE, Action.UPDATE) and parent_item is not None \
                and parent_item.reason is Reason.EXPIRED_NOT_CREATED and item.parent not in backend:
            item.action, item.reason = Action.ERROR, Reason.PARENT_MISSING
            item.detail = f"parent {item.parent} expired and was never created"
            if item.path is not None:
                plan.problems.append(FileProblem(item.path, item.detail, slug))

    # Ledger entries without a file: removed from the directory.
    for slug, entry in ledger.entries().items():
        if slug in items or slug in held:
            continue
        if slug not in backend:
            ledger.forget(slug)  # destroyed by other means: nothing left to own
            continue
        if opts.prune:
            items[slug] = PlanItem(slug, Action.DESTROY, Reason.FILE_REMOVED, parent=entry.parent,
                                   applied_hash=entry.spec_hash)
        else:
            items[slug] = PlanItem(slug, Action.KEEP, Reason.PRUNE_NOT_ASKED, parent=entry.parent,
                                   applied_hash=entry.spec_hash)

    block_parents_of_living_children(items, parents)

    if opts.detect_drift:
        candidates = [s for s, i in items.items() if i.action is Action.UNCHANGED and s in backend]

        def check(slug: str) -> tuple[str, dict[str, int] | None, str]:
            try:
                return slug, refresh_preview(engine, slug)[0], ""
            except EngineError as err:
                return slug, None, str(err)

        for slug, changes, error in fan_out(check, candidates, opts.parallel):
            item = items[slug]
            if changes is None:
                item.action, item.reason, item.detail = Action.ERROR, Reason.DRIFT, f"drift check failed: {error}"
            elif changes:
                item.action, item.reason = Action.UPDATE, Reason.DRIFT
                item.detail = ", ".join(f"{n} to {op}" for op, n in sorted(changes.items()))

    plan.items = [items[s] for s in depth_order(items, parents)]
    return plan


def _expire(item: PlanItem, prune: bool) -> None:
    if prune:
        item.action, item.reason = Action.DESTROY, Reason.EXPIRED
    else:
        item.action, item.reason = Action.KEEP, Reason.EXPIRED_NOT_PRUNED
    if item.expires_at is not None:
        item.detail = f"expired at {item.expires_at.isoformat()}"
