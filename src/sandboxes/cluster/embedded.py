"""The embedded Kubernetes control plane: kwokctl's binary runtime, on loopback, without Docker.

etcd, kube-apiserver, kube-controller-manager, kube-scheduler and the kwok controller
run as local processes started by ``kwokctl`` from the binaries ``make toolchain``
built. kwok's simulated nodes run no containers; Stages (``stages/``) make them behave
like a real cluster for everything Pulumi awaits: Pods become Ready, Job pods
complete, PVCs bind and Ingresses get a load-balancer address. The API server enforces
authentication, RBAC and admission (Pod Security included) as a real one does.

State lives under ``$SANDBOXES_DATA_DIR/cluster`` (etcd data, certificates, logs, pid
files, the kubeconfig), so ``cluster down`` followed by nothing leaves no process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sandboxes.environment import embedded_kubeconfig
from sandboxes.paths import data_dir, toolchain_bin_dir
from sandboxes.processes import process_alive
from sandboxes.toolchain.pins import load_pins

CLUSTER_NAME = "sandboxes"
DEFAULT_NODES = 2
FAKE_NODE_ANNOTATION = "kwok.x-k8s.io/node=fake"
REAL_NODE_LABEL_KEY = "sandboxes.io/node"
_HERE = Path(__file__).parent
REQUIRED_BINARIES = (
    "kwokctl", "kwok", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl",
)

Progress = Callable[[str], None]


class ClusterError(RuntimeError):
    """The embedded cluster could not be brought to the asked state; says what to do."""


@dataclass
class ClusterStatus:
    kubeconfig: Path
    exists: bool
    api_reachable: bool
    server: str | None = None
    version: str | None = None
    nodes_ready: int = 0
    nodes_total: int = 0
    processes: dict[str, bool] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.api_reachable and self.nodes_ready > 0 and self.nodes_ready == self.nodes_total and all(
            self.processes.values()
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "healthy": self.healthy,
            "exists": self.exists,
            "api_reachable": self.api_reachable,
            "server": self.server,
            "version": self.version,
            "nodes": {"ready": self.nodes_ready, "total": self.nodes_total},
            "processes": self.processes,
            "kubeconfig": str(self.kubeconfig),
            "problems": self.problems,
        }


def cluster_dir() -> Path:
    return data_dir() / "cluster"


def _workdir() -> Path:
    return cluster_dir() / "kwok"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(toolchain_bin_dir()), env.get("PATH", "")])
    env["KWOK_WORKDIR"] = str(_workdir())
    env["KWOK_KUBE_VERSION"] = f"v{load_pins().kubernetes}"
    env.pop("KUBECONFIG", None)
    return env


def _bin(name: str) -> str:
    return str(toolchain_bin_dir() / name)


def _missing_binaries() -> list[str]:
    return [b for b in REQUIRED_BINARIES if not (toolchain_bin_dir() / b).exists()]


def _run(cmd: Sequence[str], progress: Progress | None = None, timeout: float = 300) -> str:
    log = cluster_dir() / "kwokctl.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as handle:
        handle.write(f"\n$ {' '.join(cmd)}\n")
        proc = subprocess.Popen(
            list(cmd), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        lines: list[str] = []
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        for line in proc.stdout:
            handle.write(line)
            lines.append(line)
            if progress and line.strip():
                progress(_readable(line))
            if time.monotonic() > deadline:
                proc.kill()
                break
        code = proc.wait()
    if code != 0:
        tail = "".join(lines[-8:])
        raise ClusterError(f"{' '.join(cmd[:3])} failed (exit {code}); log: {log}\n{tail}")
    return "".join(lines)


def _readable(line: str) -> str:
    """kwokctl logs JSON lines; a person wants the message and its few fields."""
    try:
        record = json.loads(line)
    except ValueError:
        return line.rstrip()
    if not isinstance(record, dict) or "msg" not in record:
        return line.rstrip()
    skip = {"time", "level", "source", "msg"}
    fields = []
    for key, value in record.items():
        if key in skip:
            continue
        if isinstance(value, dict) and "human" in value:
            value = value["human"]
        fields.append(f"{key}={value}")
    return f"{record['msg']}" + (f" ({', '.join(fields)})" if fields else "")


def kubectl(
    *args: str, timeout: float = 60, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The pinned kubectl against the embedded cluster (``stdin``: e.g. manifests for ``apply -f -``)."""
    cmd = [_bin("kubectl"), "--kubeconfig", str(embedded_kubeconfig()), *args]
    proc = subprocess.run(cmd, env=_env(), input=stdin, capture_output=True, text=True, timeout=timeout,
                          check=False)
    if check and proc.returncode != 0:
        raise ClusterError(f"kubectl {' '.join(args)} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def _config_file() -> Path:
    """kwokctl configuration plus the Stages; a file with Stages replaces kwok's defaults."""
    docs: list[dict[str, object]] = [
        {
            "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
            "kind": "KwokctlConfiguration",
            "options": {"bindAddress": "127.0.0.1", "runtime": "binary"},
            # The API server's client certificate for kubelet calls (logs, exec, port-forward): the real
            # node's kubelet (sandboxes.cluster.realnode) authenticates its callers. Here, not in --extra-args: kwokctl
            # 0.8.0 panics on two --extra-args of a second component (mutationComponentPatches).
            "componentsPatches": [
                {
                    "name": "kube-apiserver",
                    "extraArgs": [
                        {"key": "kubelet-client-certificate", "value": str(_pki() / "admin.crt")},
                        {"key": "kubelet-client-key", "value": str(_pki() / "admin.key")},
                        # The real node's name does not resolve; its InternalIP is the bridge address.
                        # kwok's nodes have no InternalIP and keep using their Hostname.
                        {"key": "kubelet-preferred-address-types", "value": "InternalIP,Hostname"},
                    ],
                }
            ],
        }
    ]
    for stage in sorted((_HERE / "stages").glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(stage.read_text()) if d)
    path = cluster_dir() / "kwokctl.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def _pki() -> Path:
    return _workdir() / "clusters" / CLUSTER_NAME / "pki"


def _pid_alive(pid_file: Path) -> bool:
    try:
        return process_alive(int(pid_file.read_text().strip()))
    except (OSError, ValueError):
        return False


def _processes() -> dict[str, bool]:
    pids = _workdir() / "clusters" / CLUSTER_NAME / "pids"
    if not pids.is_dir():
        return {}
    return {p.stem: _pid_alive(p) for p in sorted(pids.glob("*.pid"))}


def exists() -> bool:
    return (_workdir() / "clusters" / CLUSTER_NAME / "kwok.yaml").exists()


def status() -> ClusterStatus:
    kubeconfig = embedded_kubeconfig()
    st = ClusterStatus(kubeconfig=kubeconfig, exists=exists(), api_reachable=False, processes=_processes())
    for name, alive in st.processes.items():
        if not alive:
            st.problems.append(f"process {name} is not running")
    if not st.exists:
        st.problems.append("no embedded cluster: run 'sandboxctl cluster up'")
        return st
    if not kubeconfig.exists() or _missing_binaries():
        st.problems.append("kubeconfig or toolchain missing: run 'make toolchain' and 'sandboxctl cluster up'")
        return st
    ready = kubectl("get", "--raw", "/readyz", timeout=10, check=False)
    st.api_reachable = ready.returncode == 0 and ready.stdout.strip() == "ok"
    if not st.api_reachable:
        st.problems.append(f"API server not ready: {(ready.stderr or ready.stdout).strip()[:200]}")
        return st
    version = kubectl("version", "-o", "json", timeout=10, check=False)
    if version.returncode == 0:
        info = json.loads(version.stdout).get("serverVersion", {})
        st.version = info.get("gitVersion")
    server = kubectl("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}", check=False)
    st.server = server.stdout.strip() or None
    nodes = json.loads(kubectl("get", "nodes", "-o", "json", timeout=10).stdout)["items"]
    # The real node (sandboxes.cluster.realnode) is reported on its own by ``sandboxctl cluster status``.
    nodes = [n for n in nodes if n["metadata"].get("labels", {}).get(REAL_NODE_LABEL_KEY) != "real"]
    st.nodes_total = len(nodes)
    for node in nodes:
        conditions = {c["type"]: c["status"] for c in node.get("status", {}).get("conditions", [])}
        if conditions.get("Ready") == "True":
            st.nodes_ready += 1
        else:
            st.problems.append(f"node {node['metadata']['name']} is not Ready")
    if st.nodes_total == 0:
        st.problems.append("no nodes registered")
    return st


def _api_ready() -> bool:
    if not embedded_kubeconfig().exists() or _missing_binaries():
        return False
    try:
        ready = kubectl("get", "--raw", "/readyz", timeout=10, check=False)
    except subprocess.TimeoutExpired:
        return False
    return ready.returncode == 0 and ready.stdout.strip() == "ok"


def _wait_nodes(count: int, progress: Progress | None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = status()
        if st.api_reachable and st.nodes_ready >= count:
            return
        time.sleep(0.5)
    raise ClusterError(f"nodes not Ready after {timeout:.0f}s: {'; '.join(status().problems)}")


def up(nodes: int = DEFAULT_NODES, progress: Progress | None = None) -> ClusterStatus:
    """Start the embedded cluster, or make sure the running one is whole. Idempotent."""
    say = progress or (lambda _msg: None)
    missing = _missing_binaries()
    if missing:
        raise ClusterError(f"toolchain binaries missing ({', '.join(missing)}): run 'make toolchain' first")
    current = status()
    if current.healthy and current.nodes_total >= nodes:
        say(f"cluster already running: {current.server}, {current.nodes_ready} nodes Ready")
        return current
    kubeconfig = embedded_kubeconfig()
    if exists():
        say("cluster exists but is not healthy: restarting its processes")
        # kwokctl restarts a component only when its pid file names no live process; a
        # zombie (unreaped by PID 1 here) looks alive to it, so drop dead processes' pid files.
        pids = _workdir() / "clusters" / CLUSTER_NAME / "pids"
        for name, alive in _processes().items():
            if not alive:
                (pids / f"{name}.pid").unlink(missing_ok=True)
        _run([_bin("kwokctl"), "start", "cluster", "--name", CLUSTER_NAME, "--wait", "60s"], progress)
    else:
        say("creating the embedded control plane (etcd, kube-apiserver, controller manager, scheduler, kwok)")
        kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        kubeconfig.unlink(missing_ok=True)
        try:
            _run(
                [
                    _bin("kwokctl"), "create", "cluster", "--name", CLUSTER_NAME, "--runtime", "binary",
                    "--config", str(_config_file()),
                    "--kubeconfig", str(kubeconfig),
                    "--kube-apiserver-binary", _bin("kube-apiserver"),
                    "--kube-controller-manager-binary", _bin("kube-controller-manager"),
                    "--kube-scheduler-binary", _bin("kube-scheduler"),
                    "--kwok-controller-binary", _bin("kwok"),
                    "--etcd-binary", _bin("etcd"),
                    "--extra-args", "kwok-controller=manage-all-nodes=false",
                    "--extra-args", f"kwok-controller=manage-nodes-with-annotation-selector={FAKE_NODE_ANNOTATION}",
                    "--wait", "60s",
                ],
                progress,
            )
        except ClusterError:
            say("create failed: removing the partial cluster")
            down(progress=None)
            raise
        kubectl("apply", "-f", str(_HERE / "manifests" / "storage-class.yaml"))
    current_nodes = status().nodes_total
    if current_nodes < nodes:
        say(f"adding simulated nodes ({current_nodes} -> {nodes})")
        _run([_bin("kwokctl"), "scale", "node", "--name", CLUSTER_NAME, "--replicas", str(nodes)], progress)
    _wait_nodes(nodes, progress)
    final = status()
    if not final.healthy:
        raise ClusterError("cluster started but is not healthy: " + "; ".join(final.problems))
    say(f"cluster ready: {final.server} ({final.version}), {final.nodes_ready} nodes Ready")
    return final


def down(progress: Progress | None = None) -> bool:
    """Stop every process and remove the cluster's state. Returns whether anything was there."""
    say = progress or (lambda _msg: None)
    from sandboxes.cluster import realnode

    real = realnode.present() and realnode.down(progress, api_reachable=exists() and _api_ready())
    if not exists() and not _workdir().exists():
        return real
    if (toolchain_bin_dir() / "kwokctl").exists() and exists():
        try:
            _run([_bin("kwokctl"), "delete", "cluster", "--name", CLUSTER_NAME], progress)
        except ClusterError as err:
            say(f"kwokctl delete failed ({err}); stopping processes directly")
    for name, alive in _processes().items():
        if alive:
            pid = int((_workdir() / "clusters" / CLUSTER_NAME / "pids" / f"{name}.pid").read_text())
            os.kill(pid, 15)
    shutil.rmtree(_workdir(), ignore_errors=True)
    embedded_kubeconfig().unlink(missing_ok=True)
    say("cluster removed")
    return True
