"""A sandbox on the real node (not a test): ``Engine.up`` to a reachable login URL, beside plain ``kubectl apply``.

Run as root on Linux: ``.venv/bin/python bench/realnode_sandbox_bench.py``. Private data
directory (a temporary one unless ``SANDBOXES_DATA_DIR`` is set): kwok cluster, real node,
``python -m sandboxes.images build --containerd-socket …`` (incremental), then, in the same run:

- ``engine_s``: ``Engine.up`` of a ``preconfigured`` sandbox (cpo+msp, devices off) until
  ``http://<slug>.sandboxes.localhost/`` answers 200 through Traefik (Pulumi itself waits for
  the database StatefulSet, the seed Job and the Deployment);
- ``kubectl_s``: the same objects as the cluster held them after ``up`` (read back, stripped
  of server-set fields), after ``destroy``, ``kubectl apply``-ed into the fresh namespace,
  waiting for the same readiness (StatefulSet rolled out, seed Job Complete, Deployment
  available) and the same 200;
- ``ratio``: engine_s / kubectl_s.

Measured here (images cached), two runs:

| run | engine_s | kubectl_s | kubectl: database Ready / seed Complete | ratio |
|---|---|---|---|---|
| 1 | 17.98 | 26.79 | (not split) | 0.67 |
| 2 | 21.74 | 16.57 | 11.53 / 16.51 | 1.31 |

The spread between runs is as large as the difference: most of the time is the
database's first start (initdb, ~11 s) and the seed, which both paths wait for. The
engine starts the seed Job only after the database is Ready; ``kubectl apply`` starts it
at once and the seed program retries until the Service answers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NAMESPACED = ("resourcequotas", "limitranges", "roles", "rolebindings", "networkpolicies", "secrets", "configmaps",
              "serviceaccounts", "services", "statefulsets", "deployments", "jobs", "ingresses")
DROP_META = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation", "selfLink")


def _login_ok(host: str) -> bool:
    req = urllib.request.Request("http://127.0.0.1/", headers={"Host": host})
    try:
        with urllib.request.urlopen(req, timeout=3) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _wait_login(host: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not _login_ok(host):
        if time.monotonic() > deadline:
            raise TimeoutError(f"http://{host}/ not 200 after {timeout} s")
        time.sleep(0.2)


def _clean(obj: dict[str, Any]) -> dict[str, Any] | None:
    meta = obj["metadata"]
    if meta.get("ownerReferences") or meta["name"] in ("kube-root-ca.crt", "default"):
        return None
    if obj["kind"] == "Secret" and obj.get("type") == "kubernetes.io/service-account-token":
        return None
    for key in DROP_META:
        meta.pop(key, None)
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if not k.startswith("kubectl.kubernetes")}
    meta["annotations"] = annotations
    obj.pop("status", None)
    spec = obj.get("spec") or {}
    if obj["kind"] == "Service":
        spec.pop("clusterIP", None)
        spec.pop("clusterIPs", None)
    if obj["kind"] == "Job":
        spec.pop("selector", None)
        labels = spec["template"]["metadata"].get("labels") or {}
        for key in [k for k in labels if "controller-uid" in k or k.endswith("job-name")]:
            labels.pop(key)
    if obj["kind"] == "PersistentVolume":
        for key in ("uid", "resourceVersion"):
            spec.get("claimRef", {}).pop(key, None)
    return obj


def main() -> int:
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        print("the real node sandbox benchmark needs Linux and root", file=sys.stderr)
        return 2
    os.environ.setdefault("SANDBOXES_DATA_DIR", tempfile.mkdtemp(prefix="sandboxes-realnode-sandbox-bench-"))
    from sandboxes import stackfiles
    from sandboxes.cluster import embedded, realnode
    from sandboxes.engine import Engine
    from sandboxes.spec import new_slug, parse_spec

    def kubectl(*args: str, stdin: str | None = None, timeout: float = 300) -> str:
        return subprocess.run(
            [str(embedded.toolchain_bin_dir() / "kubectl"), "--kubeconfig", str(embedded.embedded_kubeconfig()),
             *args], input=stdin, text=True, capture_output=True, timeout=timeout, check=True,
        ).stdout

    work = Path(tempfile.mkdtemp(prefix="sandboxes-bench-"))
    result: dict[str, object] = {"data_dir": os.environ["SANDBOXES_DATA_DIR"]}
    embedded.up(nodes=2)
    try:
        realnode.up()
        socket = realnode.node_dir() / "containerd" / "containerd.sock"
        subprocess.run([sys.executable, "-m", "sandboxes.images", "build", "--containerd-socket", str(socket)],
                       check=True, cwd=ROOT)
        slug = new_slug()
        host = f"{slug}.sandboxes.localhost"
        spec = parse_spec({"slug": slug, "name": "Bench", "provider_id": "acme", "modules": ["cpo", "msp"],
                           "data": "preconfigured", "devices": {"enabled": False}})
        stacks = work / "stacks"
        stackfiles.write(stacks, spec)
        engine = Engine(stacks_dir=stacks)
        started = time.monotonic()
        engine.up(slug)
        result["engine_up_returned_s"] = round(time.monotonic() - started, 2)
        _wait_login(host)
        result["engine_s"] = round(time.monotonic() - started, 2)

        objects: list[dict[str, Any]] = [json.loads(kubectl("get", "namespace", slug, "-o", "json"))]
        for kind in NAMESPACED:
            objects += json.loads(kubectl("get", kind, "-n", slug, "-o", "json"))["items"]
        volumes = [pv for pv in json.loads(kubectl("get", "pv", "-o", "json"))["items"]
                   if (pv["spec"].get("claimRef") or {}).get("namespace") == slug]
        objects += volumes
        manifests = [o for o in (_clean(o) for o in objects) if o is not None]
        engine.destroy(slug)

        for pv in volumes:  # what the program's HostDirectory does
            path = Path((pv["spec"].get("local") or pv["spec"].get("hostPath"))["path"])
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, 999, 999)
            path.chmod(0o700)
        doc = json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests})
        started = time.monotonic()
        kubectl("apply", "-f", "-", stdin=doc)
        steps: dict[str, float] = {}
        kubectl("rollout", "status", "-n", slug, f"statefulset/{slug}-db", "--timeout=300s")
        steps["database_ready"] = round(time.monotonic() - started, 2)
        kubectl("wait", "-n", slug, f"job/{slug}-seed", "--for=condition=Complete", "--timeout=600s", timeout=620)
        steps["seed_complete"] = round(time.monotonic() - started, 2)
        kubectl("rollout", "status", "-n", slug, f"deployment/{slug}-web", "--timeout=300s")
        _wait_login(host)
        result["kubectl_s"] = round(time.monotonic() - started, 2)
        result["kubectl_steps_s"] = steps
        result["ratio"] = round(float(result["engine_s"]) / float(result["kubectl_s"]), 2)  # type: ignore[arg-type]
        kubectl("delete", "namespace", slug, "--timeout=120s", timeout=130)
        for pv in volumes:
            kubectl("delete", "pv", pv["metadata"]["name"], "--ignore-not-found", timeout=130)
            shutil.rmtree((pv["spec"].get("local") or pv["spec"].get("hostPath"))["path"], ignore_errors=True)
    finally:
        realnode.down()
        embedded.down()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
