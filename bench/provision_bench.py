"""Provisioning benchmark (not a test): POST to a ready blank sandbox, against kubectl apply of the same objects.

In one run, on a private embedded cluster:

1. ``POST /v1/sandboxes`` (blank data, one module) through the real API, service, worker
   process and Pulumi engine, until the operation succeeds: every object is created and
   awaited (Deployments available, StatefulSet ready, PVC bound, Job complete, Ingress
   addressed).
2. The objects that stack made are read back from the API server (the rendered manifests,
   without status and server-set fields), the sandbox is deleted, and the same manifests
   are applied with ``kubectl apply`` followed by ``kubectl wait`` for the same readiness.

The ratio says what the engine, the API and the worker process cost over the floor of
applying the same manifests by hand. Run:
``.venv/bin/python bench/provision_bench.py [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

KINDS = ("namespace", "resourcequota", "limitrange", "role", "rolebinding", "networkpolicy", "secret",
         "configmap", "service", "persistentvolumeclaim", "statefulset", "deployment", "job", "ingress")
SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation", "selfLink")


def _kubectl(*args: str, stdin: str | None = None) -> str:
    from sandboxes.cluster import kubectl

    return kubectl(*args, timeout=300, stdin=stdin).stdout


def _manifests(slug: str) -> list[dict[str, Any]]:
    """The stack's objects as a user would apply them: spec and labels, no status or server fields."""
    objects: list[dict[str, Any]] = [json.loads(_kubectl("get", "namespace", slug, "-o", "json"))]
    for kind in KINDS[1:]:
        listed = json.loads(_kubectl("get", kind, "-n", slug, "-o", "json"))["items"]
        for obj in listed:
            if kind == "secret" and obj.get("type", "").startswith("kubernetes.io/service-account"):
                continue
            if kind == "configmap" and obj["metadata"]["name"] == "kube-root-ca.crt":
                continue
            objects.append(obj)
    for obj in objects:
        obj.pop("status", None)
        meta = obj["metadata"]
        for key in SERVER_FIELDS:
            meta.pop(key, None)
        meta.get("annotations", {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
        if obj["kind"] == "Service":
            for key in ("clusterIP", "clusterIPs"):
                obj["spec"].pop(key, None)
        if obj["kind"] == "PersistentVolumeClaim":
            obj["spec"].pop("volumeName", None)
            meta.get("annotations", {}).clear()
        if obj["kind"] == "Job":  # the controller adds these to the selector and template
            obj["spec"].pop("selector", None)
            tpl_labels = obj["spec"]["template"]["metadata"].get("labels", {})
            for key in ("controller-uid", "batch.kubernetes.io/controller-uid", "job-name",
                        "batch.kubernetes.io/job-name"):
                tpl_labels.pop(key, None)
    return objects


def _wait_ready(slug: str) -> None:
    _kubectl("wait", "-n", slug, "--for=condition=Available", "deployment", "--all", "--timeout=300s")
    _kubectl("rollout", "status", "-n", slug, "statefulset", "--timeout=300s")
    _kubectl("wait", "-n", slug, "--for=jsonpath={.status.phase}=Bound", "pvc", "--all", "--timeout=300s")
    _kubectl("wait", "-n", slug, "--for=condition=Complete", "job", "--all", "--timeout=300s")
    _kubectl("wait", "-n", slug, "--for=jsonpath={.status.loadBalancer.ingress[0].ip}", "ingress", "--all",
             "--timeout=300s")


def _wait_gone(namespace: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        names = _kubectl("get", "namespaces", "-o", "jsonpath={.items[*].metadata.name}").split()
        if namespace not in names:
            return
        time.sleep(0.5)
    raise RuntimeError(f"namespace {namespace} still there")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="sandboxes-bench-"))
    os.environ["SANDBOXES_DATA_DIR"] = str(data)
    for var in ("KUBECONFIG", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        os.environ.pop(var, None)

    from fastapi.testclient import TestClient

    from sandboxes import cluster
    from sandboxes.api import create_app
    from sandboxes.engine import Engine
    from sandboxes.environment import resolve
    from sandboxes.service import Role, SandboxService
    from sandboxes.service.factory import open_database
    from sandboxes.service.runner import WorkerPool
    from sandboxes.settings import Settings

    cluster.up(nodes=2)
    os.environ.update(resolve().exports())
    settings = Settings(data_dir=data, database_url=f"sqlite:///{data}/records.db", stacks_dir=data / "stacks",
                        worker_pool_size=1)
    db = open_database(settings)
    service = SandboxService(settings, db, dispatcher=WorkerPool(settings, db),
                             engine_factory=lambda: Engine(settings.effective_stacks_dir))
    token = service.issue_token("bench@platform", Role.SYSTEM_ADMIN).token
    headers = {"Authorization": f"Bearer {token}"}
    engine_times: list[float] = []
    apply_times: list[float] = []
    try:
        with TestClient(create_app(service=service)) as http:
            for round_ in range(args.rounds):
                started = time.monotonic()
                created = http.post("/v1/sandboxes", headers=headers, json={
                    "name": f"bench {round_}", "modules": ["cpo"], "data": "blank", "provider_id": "bench"})
                created.raise_for_status()
                body = created.json()
                slug, op_id = body["sandbox"]["slug"], body["operation"]["id"]
                while True:
                    op = http.get(f"/v1/operations/{op_id}", headers=headers).json()
                    if op["status"] not in ("queued", "running"):
                        break
                    time.sleep(0.1)
                if op["status"] != "succeeded":
                    print(f"create failed: {op.get('error')}", file=sys.stderr)
                    return 1
                engine_times.append(time.monotonic() - started)

                manifests = _manifests(slug)
                deleted = http.delete(f"/v1/sandboxes/{slug}", params={"confirm": slug}, headers=headers).json()
                del_op = deleted["operation"]["id"]
                while http.get(f"/v1/operations/{del_op}", headers=headers).json()["status"] in ("queued", "running"):
                    time.sleep(0.2)
                _wait_gone(slug)

                document = json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests})
                started = time.monotonic()
                _kubectl("apply", "-f", "-", stdin=document)
                _wait_ready(slug)
                apply_times.append(time.monotonic() - started)
                _kubectl("delete", "namespace", slug, "--wait=true")
                print(f"round {round_ + 1}: POST→ready {engine_times[-1]:.1f}s, "
                      f"kubectl apply+wait {apply_times[-1]:.1f}s", flush=True)
    finally:
        cluster.down()

    eng, kub = statistics.median(engine_times), statistics.median(apply_times)
    print(json.dumps({
        "post_to_ready_s_median": round(eng, 2),
        "kubectl_apply_wait_s_median": round(kub, 2),
        "ratio_post_to_ready_over_kubectl": round(eng / kub, 2),
        "rounds": args.rounds,
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
