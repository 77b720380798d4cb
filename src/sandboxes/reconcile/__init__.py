"""GitOps reconciliation of a directory of stack files (issue #6).

``build_plan`` compares the directory with the backend (through a ledger, so unchanged
sandboxes cost no engine call), ``apply_plan`` carries the plan out in parent order
with bounded parallelism, ``check_drift`` finds and undoes out-of-band changes, and
``export_operator`` hands the same directory to the Pulumi Kubernetes Operator.
"""

from sandboxes.reconcile.apply import ProgressSink, apply_plan, dependencies
from sandboxes.reconcile.drift import DriftReport, check_drift, drifted, refresh_preview, remediate
from sandboxes.reconcile.ledger import Entry, Ledger, default_path
from sandboxes.reconcile.model import Action, FileProblem, Outcome, Plan, PlanItem, Reason, ReconcileError
from sandboxes.reconcile.operator import (
    HEADER,
    ExportResult,
    OperatorOptions,
    export_operator,
    git_origin,
    stack_resource,
)
from sandboxes.reconcile.ownership import API_OWNER, dir_owner, is_manager_claim
from sandboxes.reconcile.plan import PlanOptions, build_plan
from sandboxes.reconcile.ports import EnginePort
from sandboxes.reconcile.runtime import forcing, open_engine, open_ledger

__all__ = [
    "API_OWNER",
    "HEADER",
    "Action",
    "DriftReport",
    "EnginePort",
    "Entry",
    "ExportResult",
    "FileProblem",
    "Ledger",
    "OperatorOptions",
    "Outcome",
    "Plan",
    "PlanItem",
    "PlanOptions",
    "ProgressSink",
    "Reason",
    "ReconcileError",
    "apply_plan",
    "build_plan",
    "check_drift",
    "default_path",
    "dependencies",
    "dir_owner",
    "drifted",
    "export_operator",
    "forcing",
    "git_origin",
    "is_manager_claim",
    "open_engine",
    "open_ledger",
    "refresh_preview",
    "remediate",
    "stack_resource",
]
