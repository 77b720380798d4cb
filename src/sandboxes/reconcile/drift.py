"""Drift: resources changed outside Pulumi (``kubectl edit``, a controller, a person).

Detection is ``refresh`` in preview mode for each stack: it reads every live object and
reports the ones that differ from the recorded state, without writing anything.
Remediation is ``refresh`` (accept the live objects into the state) followed by ``up``
(put back what the program declares). ``up`` alone is not enough with pulumi-kubernetes:
it diffs the program's inputs against the *recorded* state, which still holds the old
values, so it sees nothing to do (checked in tests/reconcile/test_engine_reconcile.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandboxes.engine import EngineError
from sandboxes.reconcile.parallel import fan_out
from sandboxes.reconcile.plan import drifted
from sandboxes.reconcile.ports import EnginePort

__all__ = ["DriftReport", "check_drift"]


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


def _check(engine: EnginePort, slug: str, remediate: bool) -> DriftReport:
    report = DriftReport(slug)
    touched: list[str] = []

    def on_event(event: dict[str, Any]) -> None:
        if event.get("type") == "resource-pre" and event.get("op") not in (None, "same", "refresh", "read"):
            touched.append(str(event.get("urn", "")).rsplit("::", 1)[-1])

    try:
        report.changes = drifted(engine.refresh(slug, on_event=on_event, preview_only=True).changes)
    except EngineError as err:
        report.error = str(err)
        return report
    report.resources = sorted(set(touched))
    if remediate and report.drifted:
        try:
            engine.refresh(slug)
            result = engine.up(slug)
            report.remediated = result.result == "succeeded"
            if not report.remediated:
                report.remediation_error = f"up ended {result.result}"
        except EngineError as err:
            report.remediated, report.remediation_error = False, str(err)
    return report


def check_drift(engine: EnginePort, slugs: list[str], remediate: bool = False, parallel: int = 4) -> list[DriftReport]:
    """A report per slug, in the order given; with ``remediate``, drifted stacks are put back."""
    return fan_out(lambda slug: _check(engine, slug, remediate), slugs, parallel)
