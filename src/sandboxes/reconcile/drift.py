"""Drift: resources changed outside Pulumi (``kubectl scale``, ``kubectl edit``, a person).

Detection is ``refresh`` in preview mode for each stack: it reads every live object and
reports the ones that differ from the recorded state, without writing anything. The
counts come from the operation's own summary *event*: the ``RefreshResult.summary`` of
a preview-only refresh is the stack's last recorded update (a preview writes no history),
so it would report that update's creates as drift.

Remediation is ``refresh`` (accept the live objects into the state), then ``up`` (put
back what the program declares), run with ``PULUMI_K8S_ENABLE_PATCH_FORCE=true``.
Both halves were checked against the real provider (tests/reconcile/test_engine_reconcile.py):

- ``up`` alone changes nothing: pulumi-kubernetes diffs the program against the
  *recorded* state, which still holds the old value, so the out-of-band change survives.
- refresh + ``up`` without force fails: the out-of-band writer became the field manager
  of what it changed (e.g. ``.spec.replicas`` through the ``scale`` subresource), and
  pulumi-kubernetes' server-side apply stops at the field conflict. Forcing makes the
  declared state (git) win, which is what remediating means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandboxes.engine import EngineError
from sandboxes.reconcile.ledger import Ledger
from sandboxes.reconcile.model import explain
from sandboxes.reconcile.parallel import fan_out
from sandboxes.reconcile.ports import EnginePort

__all__ = ["DriftReport", "check_drift", "drifted", "refresh_preview", "remediate"]


def drifted(changes: dict[str, int]) -> dict[str, int]:
    """The non-"same" part of a refresh summary: resources that differ from the state."""
    return {op: n for op, n in changes.items() if op != "same" and n}


def refresh_preview(engine: EnginePort, slug: str) -> tuple[dict[str, int], list[str]]:
    """``(drifted counts, names of the drifted resources)`` of one stack; raises ``EngineError``."""
    summary: dict[str, int] | None = None
    touched: list[str] = []

    def on_event(event: dict[str, Any]) -> None:
        nonlocal summary
        if event.get("type") == "summary":
            summary = {str(k): int(v) for k, v in (event.get("changes") or {}).items()}
        elif event.get("type") == "resource-done" and event.get("op") not in (None, "same", "refresh", "read"):
            touched.append(str(event.get("urn", "")).rsplit("::", 1)[-1])

    engine.refresh(slug, on_event=on_event, preview_only=True)
    if summary is None:
        raise EngineError(f"{slug}: refresh preview ended without a summary event")
    return drifted(summary), sorted(set(touched))


def remediate(engine: EnginePort, slug: str) -> None:
    """Refresh then up (``engine`` should force field ownership, see the module doc); raises ``EngineError``."""
    engine.refresh(slug)
    result = engine.up(slug)
    if result.result != "succeeded":
        raise EngineError(f"{slug}: up ended {result.result}")


@dataclass
class DriftReport:
    slug: str
    changes: dict[str, int] = field(default_factory=dict)
    resources: list[str] = field(default_factory=list)
    error: str = ""
    remediated: bool | None = None  # None: not attempted
    remediation_error: str = ""

    @property
    def drifted(self) -> bool:
        return bool(self.changes)

    def to_json(self) -> dict[str, Any]:
        return {"slug": self.slug, "drifted": self.drifted, "changes": self.changes, "resources": self.resources,
                "error": self.error, "remediated": self.remediated, "remediation_error": self.remediation_error}


def _check(engine: EnginePort, remediator: EnginePort, slug: str, fix: bool, ledger: Ledger | None) -> DriftReport:
    report = DriftReport(slug)
    entry = ledger.get(slug) if ledger is not None else None
    try:
        report.changes, report.resources = refresh_preview(engine, slug)
    except EngineError as err:
        report.error = explain(err)
        return report
    if entry is not None and entry.remediation_pending and not report.changes:
        # invisible to a refresh preview since a failed remediation refreshed it into the state
        report.changes = {"remediation pending": 1}
    if fix and report.drifted:
        try:
            remediate(remediator, slug)
            report.remediated = True
        except EngineError as err:
            report.remediated, report.remediation_error = False, explain(err)
        if ledger is not None:
            ledger.set_remediation_pending(slug, not report.remediated)
    return report


def check_drift(engine: EnginePort, slugs: list[str], remediate: bool = False, parallel: int = 4,
                remediator: EnginePort | None = None, ledger: Ledger | None = None) -> list[DriftReport]:
    """A report per slug, in the order given; with ``remediate``, drifted stacks are put back
    through ``remediator`` (an engine that forces field ownership; default ``engine``).

    With ``ledger``, a failed remediation is remembered (its refresh already wrote the
    out-of-band values into the state, so the next refresh preview would call it clean).
    """
    fixer = remediator or engine
    return fan_out(lambda slug: _check(engine, fixer, slug, remediate, ledger), slugs, parallel)
