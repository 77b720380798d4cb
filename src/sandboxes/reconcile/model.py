"""The reconciler's vocabulary: what it plans for each sandbox and why.

A plan is a list of records, one per sandbox the directory or the ledger knows about,
each with an ``Action`` and a ``Reason``. Reasons are constants with a one-line meaning
(as the Pulumi Kubernetes Operator does for its conditions) so that people, JSON
consumers and tests all match on the same words instead of on free text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sandboxes.engine import EngineError, EngineFailed

__all__ = [
    "Action",
    "FileProblem",
    "Outcome",
    "Plan",
    "PlanItem",
    "Reason",
    "ReconcileError",
    "explain",
]


class ReconcileError(RuntimeError):
    """The reconcile as a whole cannot run (e.g. the backend cannot be listed)."""


def explain(err: EngineError) -> str:
    """An engine error in one line a person can act on.

    The driver's message is the engine's first ``error:`` line, which for provider errors
    is often just "1 error occurred:"; the bullet lines of its detail say what happened
    (e.g. a server-side apply conflict), so they are appended.
    """
    message = str(err)
    if isinstance(err, EngineFailed) and err.detail:
        lines = [line.strip() for line in err.detail.splitlines()]
        bullets = [line.lstrip("*").strip() for line in lines if line.startswith("* ")]
        extra = [b for b in bullets if b and b not in message]
        if extra:
            message = f"{message} {' / '.join(extra[:3])}"
    return message


class Action(StrEnum):
    """What reconcile does to one sandbox."""

    CREATE = "create"
    UPDATE = "update"
    DESTROY = "destroy"
    UNCHANGED = "unchanged"
    KEEP = "keep"  # would be destroyed, but pruning was not asked for or is blocked
    ERROR = "error"  # the sandbox's input is unusable; nothing is done to it

    @property
    def is_change(self) -> bool:
        return self in (Action.CREATE, Action.UPDATE, Action.DESTROY)


class Reason(StrEnum):
    """Why an action was chosen; the value is what people read."""

    NEW_FILE = "new file"
    SPEC_CHANGED = "spec hash changed"
    NO_RECORD = "no record of a successful apply"  # stack exists, hash unknown (a failed or foreign-tool up)
    STACK_MISSING = "stack missing in the backend"  # ledger says applied, backend has no such stack
    FILE_REMOVED = "file removed"
    DRIFT = "drift found"
    EXPIRED = "expired"
    UP_TO_DATE = "spec hash unchanged"
    PRUNE_NOT_ASKED = "file removed; pass --prune to destroy"
    EXPIRED_NOT_PRUNED = "expired; pass --prune to destroy"
    EXPIRED_NOT_CREATED = "expired; not created"
    CHILD_PRESENT = "children still present"  # a parent cannot go before its children
    INVALID_FILE = "invalid stack file"
    FOREIGN_OWNER = "owned elsewhere"
    PARENT_MISSING = "parent missing"
    PARENT_CYCLE = "parent cycle"


@dataclass(frozen=True)
class FileProblem:
    """A stack file that cannot be used: reported with its path, never fatal to the rest."""

    path: Path
    reason: str
    slug: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "slug": self.slug, "reason": self.reason}


@dataclass
class PlanItem:
    slug: str
    action: Action
    reason: Reason
    detail: str = ""
    path: Path | None = None
    parent: str | None = None
    spec_hash: str | None = None
    applied_hash: str | None = None
    expires_at: datetime | None = None

    def describe(self) -> str:
        return f"{self.reason.value}: {self.detail}" if self.detail else self.reason.value

    def to_json(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "action": self.action.value,
            "reason": self.reason.value,
            "detail": self.detail,
            "path": str(self.path) if self.path else None,
            "parent": self.parent,
            "spec_hash": self.spec_hash,
            "applied_hash": self.applied_hash,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }


@dataclass
class Outcome:
    """The result of carrying out one planned change."""

    slug: str
    action: Action
    status: str  # "succeeded" | "failed" | "skipped"
    detail: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"slug": self.slug, "action": self.action.value, "status": self.status, "detail": self.detail,
                "seconds": round(self.seconds, 2)}


@dataclass
class Plan:
    directory: Path
    owner: str
    items: list[PlanItem] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    expiring_soon: list[PlanItem] = field(default_factory=list)
    prune: bool = False

    def by_slug(self) -> dict[str, PlanItem]:
        return {item.slug: item for item in self.items}

    @property
    def changes(self) -> list[PlanItem]:
        return [item for item in self.items if item.action.is_change]

    @property
    def has_errors(self) -> bool:
        return bool(self.problems) or any(item.action is Action.ERROR for item in self.items)

    def counts(self) -> dict[str, int]:
        out = {action.value: 0 for action in Action}
        for item in self.items:
            out[item.action.value] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "owner": self.owner,
            "prune": self.prune,
            "items": [item.to_json() for item in self.items],
            "problems": [problem.to_json() for problem in self.problems],
            "expiring_soon": [item.to_json() for item in self.expiring_soon],
            "counts": self.counts(),
        }
