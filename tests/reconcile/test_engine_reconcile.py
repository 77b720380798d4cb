"""Reconcile against the real engine, the real program and the embedded API server.

Slow (each ``up`` of a sandbox takes tens of seconds), so the scenarios are chained:
one test walks a directory through create, no-op, edit, prune and drift; one checks
parent/child order both ways; one checks that a bad sandbox fails alone.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from sandboxes.engine import Engine, OperationResult
from sandboxes.environment import resolve
from sandboxes.reconcile import (
    Action,
    Ledger,
    PlanOptions,
    Reason,
    apply_plan,
    build_plan,
    check_drift,
    dir_owner,
    forcing,
)
from tests.fixtures.cluster import KubeCluster
from tests.reconcile.conftest import write_sandbox

pytestmark = pytest.mark.engine


class Recording:
    """The real engine, with each operation's (op, slug, start, end) recorded."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.log: list[tuple[str, str, float, float]] = []
        self._lock = threading.Lock()

    def _timed(self, op: str, slug: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.monotonic()
        try:
            return fn(*args, **kwargs)
        finally:
            with self._lock:
                self.log.append((op, slug, start, time.monotonic()))

    def ops(self, op: str) -> list[str]:
        return [slug for o, slug, _, _ in sorted(self.log, key=lambda r: r[2]) if o == op]

    def span(self, op: str, slug: str) -> tuple[float, float]:
        return next((s, e) for o, sl, s, e in self.log if o == op and sl == slug)

    def stacks(self) -> list[str]:
        return self.engine.stacks()

    def outputs(self, slug: str, include_secrets: bool = False) -> dict[str, Any]:
        return self._timed("outputs", slug, self.engine.outputs, slug, include_secrets)  # type: ignore[no-any-return]

    def up(self, slug: str, on_event: Any = None) -> OperationResult:
        return self._timed("up", slug, self.engine.up, slug, on_event=on_event)  # type: ignore[no-any-return]

    def refresh(self, slug: str, on_event: Any = None, preview_only: bool = False) -> OperationResult:
        op = "refresh-preview" if preview_only else "refresh"
        return self._timed(op, slug, self.engine.refresh, slug, on_event=on_event,  # type: ignore[no-any-return]
                           preview_only=preview_only)

    def destroy(self, slug: str, on_event: Any = None, remove: bool = True) -> OperationResult:
        return self._timed("destroy", slug, self.engine.destroy, slug, on_event=on_event,  # type: ignore[no-any-return]
                           remove=remove)


@pytest.fixture
def stacks(tmp_path: Path) -> Path:
    directory = tmp_path / "stacks"
    directory.mkdir()
    return directory


@pytest.fixture
def real(stacks: Path, kube_cluster: KubeCluster, pulumi_workspace_env: dict[str, str]) -> Recording:
    environment = resolve({**os.environ, "KUBECONFIG": str(kube_cluster.kubeconfig)})
    return Recording(Engine(stacks_dir=stacks, environment=environment))


@pytest.fixture
def forced(stacks: Path, kube_cluster: KubeCluster, pulumi_workspace_env: dict[str, str]) -> Recording:
    environment = resolve({**os.environ, "KUBECONFIG": str(kube_cluster.kubeconfig)})
    return Recording(Engine(stacks_dir=stacks, environment=forcing(environment)))


def _plan(stacks: Path, engine: Recording, ledger: Ledger, **opts: Any) -> Any:
    return build_plan(stacks, engine, ledger, dir_owner(stacks), PlanOptions(parallel=3, **opts))


def _actions(plan: Any) -> dict[str, tuple[Action, Reason]]:
    return {item.slug: (item.action, item.reason) for item in plan.items}


def _ok(outcomes: list[Any]) -> None:
    assert outcomes and all(o.status == "succeeded" for o in outcomes), [o.to_json() for o in outcomes]


def _namespaces(cluster: KubeCluster) -> set[str]:
    return {n.metadata.name for n in client.CoreV1Api(cluster.api_client()).list_namespace().items}


def _wait_gone(cluster: KubeCluster, namespace: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while namespace in _namespaces(cluster):
        if time.monotonic() > deadline:
            pytest.fail(f"namespace {namespace} still present after destroy")
        time.sleep(0.5)


def _replicas(cluster: KubeCluster, slug: str) -> int:
    apps = client.AppsV1Api(cluster.api_client())
    return int(apps.read_namespaced_deployment(f"{slug}-web", slug).spec.replicas)


def test_create_noop_edit_prune_and_drift(stacks: Path, real: Recording, forced: Recording,
                                          kube_cluster: KubeCluster, tmp_path: Path) -> None:
    a, b, c = "sandbox-rca001", "sandbox-rcb001", "sandbox-rcc001"
    ledger = Ledger(tmp_path / "ledger.json")
    for slug in (a, b, c):
        write_sandbox(stacks, slug)
    plan = _plan(stacks, real, ledger)
    assert _actions(plan) == {s: (Action.CREATE, Reason.NEW_FILE) for s in (a, b, c)}
    _ok(apply_plan(plan, real, ledger, parallel=3))
    assert {a, b, c} <= _namespaces(kube_cluster)
    assert not _plan(stacks, real, ledger).changes

    # the stack's own outputs agree with the ledger (a fresh runner would rebuild the same)
    fresh = Ledger(tmp_path / "fresh.json")
    assert not _plan(stacks, real, fresh).changes

    write_sandbox(stacks, b, description="edited in a merge request")
    plan = _plan(stacks, real, ledger)
    assert [(i.slug, i.action, i.reason) for i in plan.changes] == [(b, Action.UPDATE, Reason.SPEC_CHANGED)]
    real.log.clear()
    _ok(apply_plan(plan, real, ledger))
    assert real.ops("up") == [b]

    (stacks / f"Pulumi.{c}.yaml").unlink()
    assert _actions(_plan(stacks, real, ledger))[c] == (Action.KEEP, Reason.PRUNE_NOT_ASKED)
    plan = _plan(stacks, real, ledger, prune=True)
    assert [(i.slug, i.action) for i in plan.changes] == [(c, Action.DESTROY)]
    _ok(apply_plan(plan, real, ledger))
    _wait_gone(kube_cluster, c)
    assert c not in real.stacks()

    # drift: scale a Deployment behind Pulumi's back
    apps = client.AppsV1Api(kube_cluster.api_client())
    apps.patch_namespaced_deployment_scale(f"{a}-web", a, {"spec": {"replicas": 3}})
    assert _replicas(kube_cluster, a) == 3
    [report] = check_drift(real, [a])
    assert report.drifted, report
    [clean] = check_drift(real, [b])
    assert not clean.drifted, clean
    assert report.changes == {"update": 1} and report.resources == [f"{a}-workload-deployment"], report
    # ``up`` alone compares the program with the recorded state, which still says 1 replica
    up_only = real.up(a)
    assert _replicas(kube_cluster, a) == 3, "up alone undid the drift: update drift.py's docstring and docs"
    assert not {k: v for k, v in up_only.changes.items() if k != "same"}
    # refresh + up without force stops at the server-side apply conflict with the scale subresource's manager
    [unforced] = check_drift(real, [a], remediate=True, ledger=ledger)
    assert unforced.remediated is False and "conflict" in unforced.remediation_error.lower(), unforced
    assert _replicas(kube_cluster, a) == 3
    # that refresh wrote replicas=3 into the state: only the ledger still knows an up is owed
    [hidden] = check_drift(real, [a], ledger=ledger)
    assert hidden.changes == {"remediation pending": 1}, hidden
    plan = _plan(stacks, real, ledger)
    assert [(i.slug, i.reason) for i in plan.changes] == [(a, Reason.DRIFT)]
    [fixed] = check_drift(real, [a], remediate=True, remediator=forced, ledger=ledger)
    assert fixed.remediated is True, fixed
    assert _replicas(kube_cluster, a) == 1
    assert not check_drift(real, [a], ledger=ledger)[0].drifted
    assert not _plan(stacks, real, ledger).changes

    for slug in (a, b):
        (stacks / f"Pulumi.{slug}.yaml").unlink()
    _ok(apply_plan(_plan(stacks, real, ledger, prune=True), real, ledger))
    for slug in (a, b):
        _wait_gone(kube_cluster, slug)


def test_parent_before_child_and_child_before_parent_on_prune(stacks: Path, real: Recording,
                                                              kube_cluster: KubeCluster, tmp_path: Path) -> None:
    parent, child = "sandbox-rcp001", "sandbox-rck001"
    ledger = Ledger(tmp_path / "ledger.json")
    write_sandbox(stacks, child, parent=parent, data="copy")
    write_sandbox(stacks, parent)
    plan = _plan(stacks, real, ledger)
    assert [i.slug for i in plan.changes] == [parent, child]
    _ok(apply_plan(plan, real, ledger, parallel=2))
    assert real.span("up", parent)[1] <= real.span("up", child)[0]  # the child started after the parent ended
    core = client.CoreV1Api(kube_cluster.api_client())
    assert core.read_namespaced_secret(f"{child}-parent-db", child).data["url"]  # read from the parent stack

    for slug in (parent, child):
        (stacks / f"Pulumi.{slug}.yaml").unlink()
    plan = _plan(stacks, real, ledger, prune=True)
    assert {i.slug for i in plan.changes} == {parent, child}
    _ok(apply_plan(plan, real, ledger, parallel=2))
    assert real.span("destroy", child)[1] <= real.span("destroy", parent)[0]
    for slug in (parent, child):
        _wait_gone(kube_cluster, slug)


def test_a_bad_sandbox_fails_alone(stacks: Path, real: Recording, kube_cluster: KubeCluster, tmp_path: Path) -> None:
    good, bad_spec, refused = "sandbox-rcg001", "sandbox-rcx001", "sandbox-rcm001"
    ledger = Ledger(tmp_path / "ledger.json")
    write_sandbox(stacks, good)
    (stacks / f"Pulumi.{bad_spec}.yaml").write_text(
        f"config:\n  sandbox:spec:\n    slug: {bad_spec}\n    name: bad\n    modules: [msp]\n"
        "    integrations: {erp: true}\n")
    # valid spec the program refuses (masked copies are off by default): fails in the engine, alone
    write_sandbox(stacks, refused, parent=good, data="masked-copy")
    plan = _plan(stacks, real, ledger)
    got = _actions(plan)
    assert got[bad_spec] == (Action.ERROR, Reason.INVALID_FILE)
    assert "integrations are permanently disabled" in plan.by_slug()[bad_spec].detail
    assert got[good] == got[refused] == (Action.CREATE, Reason.NEW_FILE)
    outcomes = {o.slug: o for o in apply_plan(plan, real, ledger, parallel=2)}
    assert outcomes[good].status == "succeeded"
    assert outcomes[refused].status == "failed"
    assert "allowMaskedCopy" in outcomes[refused].detail, outcomes[refused].detail
    assert good in _namespaces(kube_cluster)

    # clean up: the refused stack may exist empty; destroy both
    for slug in (good, refused, bad_spec):
        (stacks / f"Pulumi.{slug}.yaml").unlink()
    for slug in (refused, good):
        if slug in real.stacks():
            real.destroy(slug)
    _wait_gone(kube_cluster, good)
    try:
        client.CoreV1Api(kube_cluster.api_client()).read_namespace(refused)
        pytest.fail(f"namespace {refused} exists although its up was refused")
    except ApiException as err:
        assert err.status == 404
