"""The real engine behind the HTTP API: create -> edit -> settings -> credentials -> delete, and a crash.

Operations run in real worker processes (``python -m sandboxes.worker``) driving the one
Pulumi program against the embedded cluster; everything is read back through the
Kubernetes API, the stack backend and the stacks directory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from sandboxes import stackfiles
from sandboxes.api import create_app
from sandboxes.engine import Engine
from sandboxes.environment import resolve
from sandboxes.processes import session_members
from sandboxes.service import Role, SandboxService
from sandboxes.service.factory import open_database
from sandboxes.service.runner import WorkerPool
from sandboxes.settings import Settings
from tests.fixtures.cluster import KubeCluster

pytestmark = pytest.mark.engine

AT_REST_SCAN = """
import os, sys, pathlib
secrets = [s.encode() for s in os.environ["SECRETS"].splitlines() if s]
for root in sys.argv[1:]:
    for path in pathlib.Path(root).rglob("*"):
        if path.is_file() and any(s in path.read_bytes() for s in secrets):
            print(path)
"""
SLUG_LABEL = "sandboxes.io/slug"
OP_TIMEOUT = 900.0

LABELLED = [
    ("CoreV1Api", "list_pod_for_all_namespaces"),
    ("CoreV1Api", "list_service_for_all_namespaces"),
    ("CoreV1Api", "list_config_map_for_all_namespaces"),
    ("CoreV1Api", "list_secret_for_all_namespaces"),
    ("CoreV1Api", "list_persistent_volume_claim_for_all_namespaces"),
    ("AppsV1Api", "list_deployment_for_all_namespaces"),
    ("AppsV1Api", "list_stateful_set_for_all_namespaces"),
    ("BatchV1Api", "list_job_for_all_namespaces"),
    ("NetworkingV1Api", "list_ingress_for_all_namespaces"),
    ("NetworkingV1Api", "list_network_policy_for_all_namespaces"),
]


class Harness:
    def __init__(self, settings: Settings, service: SandboxService, client: TestClient, headers: dict[str, str],
                 api: Any) -> None:
        self.settings, self.service, self.client, self.headers, self.api = settings, service, client, headers, api

    def wait(self, operation_id: str, timeout: float = OP_TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            op: dict[str, Any] = self.client.get(f"/v1/operations/{operation_id}", headers=self.headers).json()
            if op["status"] not in ("queued", "running"):
                return op
            time.sleep(1)
        raise AssertionError(f"operation {operation_id} did not finish in {timeout}s")

    def labelled(self, slug: str) -> dict[str, list[str]]:
        found = {}
        for cls, fn in LABELLED:
            items = getattr(getattr(k8s, cls)(self.api), fn)(label_selector=f"{SLUG_LABEL}={slug}").items
            if items:
                found[fn] = sorted(f"{i.metadata.namespace}/{i.metadata.name}" for i in items)
        return found

    def namespace(self, slug: str) -> Any:
        try:
            return k8s.CoreV1Api(self.api).read_namespace(slug)
        except ApiException as err:
            if err.status == 404:
                return None
            raise

    def settings_configmap(self, slug: str) -> dict[str, str]:
        cm = k8s.CoreV1Api(self.api).read_namespaced_config_map(f"{slug}-settings", slug)
        return dict(cm.data or {})

    def gone(self, slug: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.namespace(slug) is None and not self.labelled(slug):
                return
            time.sleep(1)
        raise AssertionError(f"{slug}: still in the cluster: ns={self.namespace(slug)} objects={self.labelled(slug)}")

    def engine(self) -> Engine:
        return Engine(self.settings.effective_stacks_dir, environment=resolve())


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, kube_cluster: KubeCluster,
            pulumi_workspace_env: dict[str, str]) -> Iterator[Harness]:
    # Worker processes inherit this process's environment: give them the test cluster and backend.
    saved = {k: os.environ.get(k) for k in pulumi_workspace_env}
    os.environ.update(pulumi_workspace_env)
    root = tmp_path_factory.mktemp("api-engine")
    settings = Settings(data_dir=Path(os.environ["SANDBOXES_DATA_DIR"]), database_url=f"sqlite:///{root}/records.db",
                        stacks_dir=root / "stacks", worker_pool_size=2)
    db = open_database(settings)
    service = SandboxService(settings, db, dispatcher=WorkerPool(settings, db),
                             engine_factory=lambda: Engine(settings.effective_stacks_dir))
    token = service.issue_token("sales@platform", Role.SYSTEM_ADMIN).token
    try:
        with TestClient(create_app(service=service)) as test_client:
            yield Harness(settings, service, test_client, {"Authorization": f"Bearer {token}"},
                          kube_cluster.api_client())
    finally:
        # A failed assertion must not leave stacks behind for the next module: destroy what is left.
        engine = Engine(settings.effective_stacks_dir, environment=resolve())
        for slug in engine.stacks():
            if stackfiles.path_for(settings.effective_stacks_dir, slug).exists():
                try:
                    engine.destroy(slug)
                except Exception as err:
                    print(f"cleanup: destroy {slug} failed: {err}")
        db.dispose()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def test_lifecycle_through_the_api(harness: Harness) -> None:
    h = harness
    created = h.client.post("/v1/sandboxes", json={"name": "API Integration Test", "modules": ["cpo"],
                                                   "data": "blank", "provider_id": "acme"}, headers=h.headers)
    assert created.status_code == 202, created.text
    slug, op_id = created.json()["sandbox"]["slug"], created.json()["operation"]["id"]
    op = h.wait(op_id)
    assert op["status"] == "succeeded", op["error"]
    assert op["summary"]["outputs"]["api_secret"] == "[secret]"
    ns = h.namespace(slug)
    assert ns is not None and ns.metadata.labels[SLUG_LABEL] == slug
    sandbox = h.client.get(f"/v1/sandboxes/{slug}", headers=h.headers).json()
    assert sandbox["status"] == "ready" and sandbox["url"] == f"http://{slug}.sandboxes.localhost"

    edit = h.client.patch(f"/v1/sandboxes/{slug}", json={"name": "Renamed", "description": "edited"},
                          headers=h.headers)
    assert edit.status_code == 202 and h.wait(edit.json()["operation"]["id"])["status"] == "succeeded"

    before = h.settings_configmap(slug)
    change = h.client.patch(f"/v1/sandboxes/{slug}/settings",
                            json={"billing": {"invoicing": True}, "look_and_feel": {"light": {"primary": "#e4002b"}}},
                            headers=h.headers)
    assert change.status_code == 202
    assert h.wait(change.json()["operation"]["id"])["status"] == "succeeded"
    after = h.settings_configmap(slug)
    assert after != before
    assert "#e4002b" in "".join(after.values())

    creds = h.client.get(f"/v1/sandboxes/{slug}/credentials", headers=h.headers).json()
    assert creds["api_key_id"] and creds["api_secret"] and creds["api_secret"] != "[secret]"
    for path in (f"/v1/sandboxes/{slug}", f"/v1/operations/{op_id}", f"/v1/operations/{op_id}/events",
                 f"/v1/operations/{change.json()['operation']['id']}/events"):
        text = h.client.get(path, headers=h.headers).text
        for secret in (creds["api_secret"], creds["database_url"]):
            leaks = [line.replace(secret, "<SECRET>") for line in text.splitlines() if secret in line]
            assert not leaks, f"{path} leaks a secret in: {leaks}"
    # Nor at rest: stack files, the records database (and its WAL), worker logs, the Pulumi state.
    # Scanned from another process: opening and closing the SQLite file here would drop the
    # POSIX locks this process's own connections hold on it (a classic SQLite pitfall).
    password = urlsplit(creds["database_url"]).password
    assert password
    roots = [h.settings.effective_stacks_dir, Path(h.settings.database_url.removeprefix("sqlite:///")).parent,
             h.settings.data_dir / "logs", h.settings.data_dir / "pulumi" / "state"]
    scan = subprocess.run(
        [sys.executable, "-c", AT_REST_SCAN, *map(str, roots)], capture_output=True, text=True, timeout=120,
        env={**os.environ, "SECRETS": "\n".join((creds["api_secret"], password))}, check=False,
    )
    assert scan.returncode == 0 and scan.stdout.strip() == "", f"secrets in plain text at rest: {scan.stdout}"

    wrong = h.client.delete(f"/v1/sandboxes/{slug}", params={"confirm": "sandbox-000000"}, headers=h.headers)
    assert wrong.status_code == 422 and h.namespace(slug) is not None
    right = h.client.delete(f"/v1/sandboxes/{slug}", params={"confirm": slug}, headers=h.headers)
    assert right.status_code == 202
    assert h.wait(right.json()["operation"]["id"])["status"] == "succeeded"
    h.gone(slug)
    assert not stackfiles.path_for(h.settings.effective_stacks_dir, slug).exists()
    assert slug not in h.engine().stacks()
    assert h.client.get(f"/v1/sandboxes/{slug}", headers=h.headers).status_code == 404


def _create_and_wait_until_creating(h: Harness, name: str, modules: list[str]) -> tuple[WorkerPool, str, str]:
    """Create a blank sandbox; return once its engine, in a worker process, is creating resources."""
    pool = h.service.dispatcher
    assert isinstance(pool, WorkerPool)
    created = h.client.post("/v1/sandboxes", json={"name": name, "modules": modules, "data": "blank"},
                            headers=h.headers).json()
    slug, op_id = created["sandbox"]["slug"], created["operation"]["id"]
    deadline = time.monotonic() + 300
    while True:
        events = h.client.get(f"/v1/operations/{op_id}/events", params={"follow": "false"}, headers=h.headers).text
        if events.count("resource-pre") >= 3 and op_id in pool.processes:
            return pool, slug, op_id
        status = h.client.get(f"/v1/operations/{op_id}", headers=h.headers).json()
        assert status["status"] in ("queued", "running"), f"the up ended before the test could act: {status}"
        future = pool.futures.get(op_id)
        failure = future.exception() if future is not None and future.done() else None
        assert failure is None, f"the worker pool could not run the operation: {failure!r}"
        assert time.monotonic() < deadline, f"the up never started creating resources: {status}"
        time.sleep(0.3)


def test_worker_killed_mid_up_then_recovered(harness: Harness) -> None:
    h = harness
    pool, slug, op_id = _create_and_wait_until_creating(h, "Crash test", ["msp"])
    # then kill the whole worker process tree
    worker = pool.processes[op_id].pid
    assert len(session_members(worker)) > 2  # the worker, pulumi, its language host and plugins
    os.killpg(worker, signal.SIGKILL)  # the worker's group: its plugins, in groups of their own, live on
    failed = h.wait(op_id, timeout=60)
    assert failed["status"] == "failed" and "exited with code" in failed["error"]
    deadline = time.monotonic() + 10
    while session_members(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not session_members(worker), "the dead worker's engine plugins outlived it"
    assert h.client.get(f"/v1/sandboxes/{slug}", headers=h.headers).json()["needs_repair"] is True

    # Restart the runner: a new pool over the same records (start-up recovery finds nothing left to fail).
    new_pool = WorkerPool(h.settings, h.service.db)
    new_pool.recover()
    h.service.dispatcher = new_pool
    nxt = h.client.patch(f"/v1/sandboxes/{slug}", json={"name": "Crash test, recovered"}, headers=h.headers)
    assert nxt.status_code == 202, nxt.text
    done = h.wait(nxt.json()["operation"]["id"])
    assert done["status"] == "succeeded", done["error"]
    events = h.client.get(f"/v1/operations/{done['id']}/events", headers=h.headers).text
    assert '"type":"repair"' in events
    objects = h.labelled(slug)
    deployments = objects.get("list_deployment_for_all_namespaces", [])
    assert deployments and len(deployments) == len(set(deployments))
    assert all(name.startswith(f"{slug}/") for names in objects.values() for name in names)

    gone = h.client.delete(f"/v1/sandboxes/{slug}", params={"confirm": slug}, headers=h.headers)
    assert h.wait(gone.json()["operation"]["id"])["status"] == "succeeded"
    h.gone(slug)  # no orphan: nothing labelled with the slug is left anywhere
    assert slug not in h.engine().stacks()


def test_running_up_cancelled_gracefully_then_the_next_up_finishes(harness: Harness) -> None:
    """A cancel stops the engine like Ctrl-C: the operation ends cancelled, the stack is free and consistent."""
    h = harness
    pool, slug, op_id = _create_and_wait_until_creating(h, "Cancel test", ["cpo"])

    asked = h.client.post(f"/v1/operations/{op_id}/cancel", headers=h.headers)
    assert asked.status_code == 202, asked.text
    assert asked.json()["status"] == "running" and asked.json()["cancel_requested_by"]
    again = h.client.post(f"/v1/operations/{op_id}/cancel", headers=h.headers)
    assert again.status_code == 202 and again.json()["cancel_requested_at"] == asked.json()["cancel_requested_at"]
    ended = h.wait(op_id, timeout=300)
    assert ended["status"] == "cancelled", ended
    assert ended["error"].startswith("cancelled by ") and "cancel" in ended["error"].lower()[20:], ended["error"]
    assert pool.wait(op_id, timeout=30) == 0  # the worker recorded the outcome itself: no crash, no repair owed
    sandbox = h.client.get(f"/v1/sandboxes/{slug}", headers=h.headers).json()
    assert sandbox["needs_repair"] is False
    events = h.client.get(f"/v1/operations/{op_id}/events", params={"follow": "false"}, headers=h.headers).text
    assert '"status":"cancelled"' in events

    # The stack is not locked and its state is consistent: the next up carries on and finishes.
    nxt = h.client.patch(f"/v1/sandboxes/{slug}", json={"name": "Cancel test, finished"}, headers=h.headers)
    assert nxt.status_code == 202, nxt.text
    done = h.wait(nxt.json()["operation"]["id"])
    assert done["status"] == "succeeded", done["error"]
    assert h.labelled(slug).get("list_deployment_for_all_namespaces")
    gone = h.client.delete(f"/v1/sandboxes/{slug}", params={"confirm": slug}, headers=h.headers)
    assert h.wait(gone.json()["operation"]["id"])["status"] == "succeeded"
    h.gone(slug)
    assert slug not in h.engine().stacks()
