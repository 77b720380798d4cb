"""The real node (issue #9): real pods, logs/exec/port-forward, Services by name, kubelet authn, clean down.

Runs as root on Linux against a private data directory (tests/fixtures/cluster.py), with
the kwok cluster of the session plus ``realnode.up()``. The test image is a static Go
binary (tool/main.go) packed into a docker-archive by ``realnode.image_archive`` and
imported with ``ctr``: nothing is pulled.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandboxes.cluster import embedded, realnode
from tests.fixtures.cluster import KubeCluster

pytestmark = pytest.mark.realnode
TOOL = Path(__file__).parent / "tool"
NS = "realnode-test"


def _kubectl(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
    return embedded.kubectl(*args, timeout=timeout, check=check)


@pytest.fixture(scope="module")
def real_node(kube_cluster: KubeCluster) -> Iterator[str]:
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("the real node needs Linux and root")
    try:
        realnode.up()
    except realnode.RealNodeError as err:
        pytest.fail(f"real node did not start: {err}", pytrace=False)
    binary = realnode.build_static_go(TOOL, "realnode-test-tool")
    import hashlib

    ref = f"localhost/sandboxes/realnode-test-tool:{hashlib.sha256(binary.read_bytes()).hexdigest()[:12]}"
    archive = realnode.image_archive(realnode.node_dir() / "images" / "tool.tar", ref,
                                     {"tool": (binary.read_bytes(), 0o755)}, ["/tool"])
    realnode.import_image(archive)
    _kubectl("create", "namespace", NS)
    try:
        yield ref
    finally:
        _kubectl("delete", "namespace", NS, "--wait=false", check=False)
        realnode.down()


def _pod_spec(image: str, args: list[str], restart: str = "Never") -> dict[str, object]:
    return {
        "nodeSelector": {realnode.NODE_LABEL_KEY: realnode.NODE_LABEL_VALUE},
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": 1,
        "containers": [{"name": "main", "image": image, "imagePullPolicy": "Never", "args": args}],
    }


def _apply(obj: dict[str, object]) -> None:
    subprocess.run(
        [str(embedded.toolchain_bin_dir() / "kubectl"), "--kubeconfig", str(embedded.embedded_kubeconfig()),
         "apply", "-f", "-"],
        input=json.dumps(obj), text=True, check=True, capture_output=True, timeout=60,
    )


def _job(name: str, image: str, args: list[str]) -> dict[str, object]:
    return {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": NS},
        "spec": {"backoffLimit": 0, "template": {"spec": _pod_spec(image, args)}},
    }


def _wait_job(name: str, timeout: float = 90) -> None:
    proc = _kubectl("wait", "-n", NS, f"job/{name}", "--for=condition=Complete", f"--timeout={int(timeout)}s",
                    timeout=timeout + 10, check=False)
    if proc.returncode != 0:
        pods = _kubectl("get", "pods", "-n", NS, "-o", "wide", check=False).stdout
        logs = _kubectl("logs", "-n", NS, f"job/{name}", check=False)
        pytest.fail(f"job {name} not Complete: {proc.stderr}\n{pods}\nlogs: {logs.stdout}{logs.stderr}")


def test_job_runs_on_the_real_node_and_its_logs_are_readable(real_node: str) -> None:
    _apply(_job("say", real_node, ["say", "hello from the real node"]))
    _wait_job("say")
    pod = json.loads(_kubectl("get", "pods", "-n", NS, "-l", "job-name=say", "-o", "json").stdout)["items"][0]
    assert pod["spec"]["nodeName"] == realnode.NODE_NAME
    assert pod["status"]["phase"] == "Succeeded"
    logs = _kubectl("logs", "-n", NS, "job/say").stdout
    assert "hello from the real node" in logs


def test_service_by_name_exec_and_port_forward(real_node: str) -> None:
    _apply({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": NS, "labels": {"app": "web"}},
        "spec": _pod_spec(real_node, ["serve", "8080", "hello-from-web"], restart="Always"),
    })
    _apply({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": NS},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
    })
    _kubectl("wait", "-n", NS, "pod/web", "--for=condition=Ready", "--timeout=60s", timeout=70)
    # DNS (CoreDNS on the bridge) + ClusterIP (kube-proxy nftables), from another pod, by short name.
    _apply(_job("client", real_node, ["get", "http://web/", "30"]))
    _wait_job("client")
    assert "hello-from-web" in _kubectl("logs", "-n", NS, "job/client").stdout
    # exec through the API server -> kubelet (client certificate, webhook authz)
    out = _kubectl("exec", "-n", NS, "web", "--", "/tool", "say", "exec-ok").stdout
    assert "exec-ok" in out
    # port-forward
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    forward = subprocess.Popen(
        [str(embedded.toolchain_bin_dir() / "kubectl"), "--kubeconfig", str(embedded.embedded_kubeconfig()),
         "port-forward", "-n", NS, "pod/web", f"{port}:8080"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        body = ""
        for _ in range(50):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                    body = resp.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert "hello-from-web" in body
    finally:
        forward.terminate()
        forward.wait(timeout=10)


def test_ingress_answers_on_localhost(real_node: str) -> None:
    """Traefik on 127.0.0.1:80 serves an Ingress of class sandboxes at http://<name>.sandboxes.localhost."""
    from sandboxes.cluster import ingress

    _kubectl("wait", "-n", NS, "pod/web", "--for=condition=Ready", "--timeout=60s", timeout=70)
    host = "web.sandboxes.localhost"
    _apply({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web", "namespace": NS},
        "spec": {"ingressClassName": ingress.INGRESS_CLASS, "rules": [{"host": host, "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]},
    })
    out = ""
    for _ in range(50):
        # curl resolves *.localhost to loopback itself (glibc does not without nss-myhostname)
        proc = subprocess.run(["curl", "-s", "--max-time", "2", f"http://{host}/"], capture_output=True, text=True,
                              check=False)
        out = proc.stdout
        if "hello-from-web" in out:
            break
        time.sleep(0.3)
    assert "hello-from-web" in out
    status = json.loads(_kubectl("get", "ingress", "-n", NS, "web", "-o", "json").stdout)["status"]
    assert status["loadBalancer"]["ingress"][0]["ip"] == "127.0.0.1"


def test_kubelet_refuses_anonymous_requests(real_node: str) -> None:
    for path in ("/pods", "/exec/x/y/z", "/healthz/../pods"):
        proc = subprocess.run(
            ["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}",
             f"https://{realnode.GATEWAY}:{realnode.KUBELET_PORT}{path}"],
            capture_output=True, text=True, timeout=20, check=False,
        )
        assert proc.stdout == "401", (path, proc.stdout, proc.stderr)
    # no read-only port
    with pytest.raises(OSError):
        socket.create_connection((realnode.GATEWAY, 10255), timeout=1).close()


def test_kwok_keeps_to_its_own_nodes(real_node: str) -> None:
    node = json.loads(_kubectl("get", "node", realnode.NODE_NAME, "-o", "json").stdout)
    assert "kwok.x-k8s.io/node" not in node["metadata"].get("annotations", {})
    assert node["metadata"]["labels"][realnode.NODE_LABEL_KEY] == realnode.NODE_LABEL_VALUE
    st = realnode.status()
    assert st.healthy, st.problems
    assert embedded.status().healthy


def _sandboxctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).parent / "sandboxctl"), *args], capture_output=True, text=True,
                          timeout=300, check=False)


def test_dead_process_is_reported_and_restarted(real_node: str) -> None:
    healthy = _sandboxctl("cluster", "status", "-o", "json")
    assert healthy.returncode == 0, healthy.stderr
    assert json.loads(healthy.stdout)["real_node"]["healthy"] is True
    pid = int((realnode.node_dir() / "pids" / "kube-proxy.pid").read_text())
    os.kill(pid, 9)
    time.sleep(0.5)
    st = realnode.status()
    assert not st.processes["kube-proxy"]
    assert any("kube-proxy" in p for p in st.problems)
    broken = _sandboxctl("cluster", "status", "-o", "json")
    assert broken.returncode == 69
    report = json.loads(broken.stdout)["real_node"]
    assert report["processes"]["kube-proxy"] is False and report["processes"]["kubelet"] is True
    # `cluster up` (no flag needed once the real node exists) restarts exactly what died
    restarted = _sandboxctl("cluster", "up")
    assert restarted.returncode == 0, restarted.stderr
    assert "starting kube-proxy" in restarted.stderr and "starting the kubelet" not in restarted.stderr
    assert realnode.status().healthy


def test_down_removes_everything(real_node: str) -> None:
    assert realnode.down()
    assert not Path(f"/sys/class/net/{realnode.BRIDGE}").exists()
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True).stdout
    assert "kube-proxy" not in tables
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(realnode.node_dir()) not in mounts
    assert not realnode.node_dir().exists()
    assert not list(Path("/var/lib/cni/results").glob(f"{realnode.CNI_NETWORK}-*"))
    for name in realnode.PROCESSES:
        assert not realnode._alive(name)
    nodes = _kubectl("get", "nodes", "-o", "name").stdout
    assert realnode.NODE_NAME not in nodes
    assert embedded.status().healthy
