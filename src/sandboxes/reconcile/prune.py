"""Pruning rules: what may be destroyed, and in which order.

Reconcile destroys only sandboxes this directory owns (the ledger says it applied them)
and only under ``--prune``. A parent goes after its children: a parent whose child is
still declared in a stack file is kept (the child's copy would lose its source), and a
parent whose children are being pruned in the same run waits for them (reverse of the
create order, enforced by the scheduler in ``apply``).
"""

from __future__ import annotations

from collections.abc import Mapping

from sandboxes.reconcile.model import Action, PlanItem, Reason

__all__ = ["block_parents_of_living_children"]


def block_parents_of_living_children(items: Mapping[str, PlanItem], parents: Mapping[str, str | None]) -> None:
    """Turn a planned destroy into KEEP while any child of it stays; repeat until stable.

    ``parents`` maps every slug we know (files and ledger) to its parent. A child "stays"
    when it is not itself being destroyed: declared in a file, kept, or in error.
    """
    changed = True
    while changed:
        changed = False
        for slug, item in items.items():
            if item.action is not Action.DESTROY:
                continue
            staying = sorted(
                child for child, parent in parents.items()
                if parent == slug and child in items and items[child].action is not Action.DESTROY
            )
            if staying:
                item.action = Action.KEEP
                item.reason = Reason.CHILD_PRESENT
                item.detail = f"{', '.join(staying)} still depend(s) on it; remove them first"
                changed = True
