"""One real node next to the kwok nodes: containerd + runc, a kubelet, a CNI bridge, kube-proxy, CoreDNS.

``sandboxctl cluster up --real-node`` starts, as host processes owned by this data
directory (``$SANDBOXES_DATA_DIR/cluster/node``):

- **containerd** with its own config, root, state and socket; the CRI plugin runs pods
  with runc (cgroupfs, ``restrict_oom_score_adj``), its sandbox ("pause") image is a tiny
  static Go binary built here and imported with ``ctr``; network namespaces are mounted
  under containerd's state directory, so ``down`` finds every one of them;
- a **CNI bridge** ``sbx0`` (10.244.0.1/24, created before the kubelet, marked as ours by
  its interface alias) with ``bridge`` + ``portmap`` + ``loopback``; host-local IPAM
  keeps its leases in the data directory;
- the **kubelet** (built from the pinned Kubernetes module), registered as
  ``sandboxes-real`` with the label ``sandboxes.io/node=real`` and without kwok's fake
  annotation, authenticating to the API server with a client certificate signed by the
  cluster CA and authenticating/authorizing its own callers by webhook (no anonymous
  access, no AlwaysAllow). The API server presents the cluster admin certificate to it
  (``--kubelet-client-certificate``, set when the cluster is created);
- **kube-proxy** in nftables mode (ClusterIP Services), NodePorts only on the bridge address;
- **CoreDNS** (built from its Go module) on the bridge address with the ``kubernetes``
  plugin: pods resolve ``<service>.<namespace>.svc.cluster.local``.

Everything listens on 127.0.0.1 or on the bridge address. ``down`` drains the node,
stops every process (pods included, through their cgroups), unmounts everything under
the node directory, removes the bridge and its veths, kube-proxy's nftables tables, the
CNI cache entries in /var/lib/cni, the pod cgroups, and the Node object.

Preflight (:func:`preflight`) names every missing piece (root, Linux, kernel features,
Debian packages, toolchain binaries, ports) before anything starts; a failure while
starting removes whatever was started. There is no fallback: without the real node, the
kwok cluster keeps running as it was.
"""


from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field

from sandboxes.cluster import ingress
from sandboxes.cluster.realnode.base import (
    BRIDGE,
    CGROUP_ROOT,
    CLUSTER_DOMAIN,
    CNI_BIN_DIR,
    CNI_CACHE_DIR,
    CNI_NETWORK,
    DNS_PORT,
    DNS_READY_PORT,
    GATEWAY,
    KUBELET_HEALTHZ_PORT,
    KUBELET_PORT,
    NODE_LABEL,
    NODE_LABEL_KEY,
    NODE_LABEL_VALUE,
    NODE_NAME,
    PAUSE_REPO,
    PROCESSES,
    PROXY_HEALTHZ_PORT,
    PROXY_METRICS_PORT,
    SUBNET,
    Progress,
    RealNodeError,
)
from sandboxes.cluster.realnode.cleanup import (
    _drain,
    _ensure_cgroup_root,
    _kill_cgroup_processes,
    _kill_shims,
    _mounts_under,
    _remove_cgroups,
)
from sandboxes.cluster.realnode.config import (
    _COREDNS_RBAC,
    COREDNS_USER,
    _write_cni_config,
    _write_containerd_config,
    _write_corefile,
    _write_kubelet_config,
    _write_proxy_config,
)
from sandboxes.cluster.realnode.host import (
    _alive,
    _bin,
    _kubectl,
    _kwok_pki,
    _log_file,
    _node_conditions,
    _start,
    _stop,
    _wait,
    containerd_socket,
    node_dir,
)
from sandboxes.cluster.realnode.host import (
    _pid as _pid,  # the tests read process state through it
)
from sandboxes.cluster.realnode.images import (
    _ensure_pause_image,
    _pause_image,
    build_static_go,
    ctr,
    has_image,
    image_archive,
    import_image,
)
from sandboxes.cluster.realnode.network import _bridge_exists, _ensure_bridge, _own_bridge, _remove_network
from sandboxes.cluster.realnode.pki import _client_cert, _kubeconfig, _server
from sandboxes.cluster.realnode.preflight import HostProbe, Listener, preflight
from sandboxes.environment import embedded_kubeconfig
from sandboxes.paths import toolchain_bin_dir

__all__ = [
    "BRIDGE", "CGROUP_ROOT", "CLUSTER_DOMAIN", "CNI_BIN_DIR", "CNI_CACHE_DIR", "CNI_NETWORK", "DNS_PORT",
    "DNS_READY_PORT", "GATEWAY", "KUBELET_HEALTHZ_PORT", "KUBELET_PORT", "NODE_LABEL", "NODE_LABEL_KEY",
    "NODE_LABEL_VALUE", "NODE_NAME", "PAUSE_REPO", "PROCESSES", "PROXY_HEALTHZ_PORT", "PROXY_METRICS_PORT", "SUBNET",
    "HostProbe", "Listener", "Progress", "RealNodeError", "RealNodeStatus", "build_static_go", "containerd_socket",
    "ctr", "down", "enabled", "has_image", "image_archive", "import_image", "node_dir", "preflight", "present",
    "status", "up",
]

# --- start --------------------------------------------------------------------------------


@dataclass
class RealNodeStatus:
    enabled: bool
    processes: dict[str, bool] = field(default_factory=dict)
    node_registered: bool = False
    node_ready: bool = False
    bridge: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.enabled and self.node_ready and self.bridge and all(self.processes.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "enabled": self.enabled,
            "healthy": self.healthy,
            "node": NODE_NAME,
            "node_registered": self.node_registered,
            "node_ready": self.node_ready,
            "bridge": self.bridge,
            "processes": self.processes,
            "problems": self.problems,
        }


def present() -> bool:
    """Anything of a real node on this host for this data directory (state or our bridge)."""
    return node_dir().exists() or (_bridge_exists() and _own_bridge())


def enabled() -> bool:
    return (node_dir() / "enabled").exists()


def status(api_reachable: bool = True) -> RealNodeStatus:
    st = RealNodeStatus(enabled=enabled())
    if not st.enabled:
        return st
    st.processes = {name: _alive(name) for name in PROCESSES}
    for name, alive in st.processes.items():
        if not alive:
            st.problems.append(f"real node: process {name} is not running (log {_log_file(name)}); "
                               "'sandboxctl cluster up --real-node' restarts it")
    st.bridge = _bridge_exists() and _own_bridge()
    if not st.bridge:
        st.problems.append(f"real node: bridge {BRIDGE} is missing")
    if api_reachable:
        conditions = _node_conditions()
        st.node_registered = conditions is not None
        st.node_ready = conditions is not None and conditions.get("Ready") == "True"
        if not st.node_ready:
            st.problems.append(f"real node: node {NODE_NAME} is " + ("not registered" if conditions is None
                                                                      else "not Ready"))
    return st


def _check_cluster_support() -> None:
    from sandboxes.cluster.embedded import CLUSTER_NAME, cluster_dir

    kwok_yaml = cluster_dir() / "kwok" / "clusters" / CLUSTER_NAME / "kwok.yaml"
    text = kwok_yaml.read_text() if kwok_yaml.exists() else ""
    if "kubelet-client-certificate" not in text or "kubelet-preferred-address-types" not in text:
        raise RealNodeError(
            "the running cluster was created without a client certificate for the API server's calls to "
            "kubelets (kubectl logs/exec would be refused): run 'sandboxctl cluster down' and then "
            "'sandboxctl cluster up --real-node'"
        )


def up(progress: Progress | None = None) -> RealNodeStatus:
    """Start the real node, or restart the processes of it that died. Idempotent; all-or-nothing."""
    say = progress or (lambda _msg: None)
    _check_cluster_support()
    fresh = not enabled()
    current = status() if not fresh else None
    if current is not None and current.healthy:
        say(f"real node {NODE_NAME} already running and Ready")
        return current
    dead = [n for n in PROCESSES if not _alive(n)]
    problems = preflight(starting=dead, own_bridge=_own_bridge())
    if problems:
        raise RealNodeError("the real node cannot start here:\n  - " + "\n  - ".join(problems))
    try:
        _start_all(say, dead)
    except (RealNodeError, OSError, subprocess.SubprocessError) as err:
        say(f"real node failed to start ({str(err).splitlines()[0]}): removing what was started")
        down(progress=None)
        raise RealNodeError(str(err)) from err
    final = status()
    if not final.healthy:
        raise RealNodeError("real node started but is not healthy: " + "; ".join(final.problems))
    return final


def _start_all(say: Progress, dead: list[str]) -> None:
    node_dir().mkdir(parents=True, exist_ok=True)
    (node_dir() / "enabled").write_text(f"{NODE_NAME}\n")
    say("real node: certificates for the kubelet, kube-proxy and CoreDNS (signed by the cluster CA)")
    kubelet_kc = _kubeconfig("kubelet", *_client_cert("kubelet", f"system:node:{NODE_NAME}", "system:nodes"))
    proxy_kc = _kubeconfig("kube-proxy", *_client_cert("kube-proxy", "system:kube-proxy", None))
    dns_kc = _kubeconfig("coredns", *_client_cert("coredns", COREDNS_USER, None))
    say(f"real node: bridge {BRIDGE} {GATEWAY}/24 and CNI configuration")
    _ensure_bridge()
    _write_cni_config()
    pause_ref = _pause_image()
    if "containerd" in dead:
        # A containerd that died leaves its shims (and their pods) running; they reconnect.
        _write_containerd_config(pause_ref)
        say("real node: starting containerd")
        _start("containerd", ["containerd", "--config", str(node_dir() / "containerd" / "config.toml")])
        _wait("containerd's socket", lambda: ctr("version", check=False).returncode == 0, 30, "containerd")
    say(f"real node: pause image {pause_ref}")
    _ensure_pause_image(pause_ref)
    if "coredns" in dead:
        _apply(_COREDNS_RBAC)
        corefile = _write_corefile(dns_kc)
        say("real node: starting CoreDNS on the bridge address")
        _start("coredns", [_bin("coredns"), "-conf", str(corefile)])
    if "kubelet" in dead:
        _ensure_cgroup_root()
        config = _write_kubelet_config(pause_ref)
        say("real node: starting the kubelet")
        _start("kubelet", [
            _bin("kubelet"), "--config", str(config), "--kubeconfig", str(kubelet_kc),
            "--root-dir", str(node_dir() / "kubelet" / "root"), "--cert-dir", str(node_dir() / "kubelet" / "pki"),
            "--hostname-override", NODE_NAME, "--node-ip", GATEWAY, "--node-labels", NODE_LABEL,
        ])
    if "kube-proxy" in dead:
        config = _write_proxy_config(proxy_kc)
        say("real node: starting kube-proxy (nftables)")
        _start("kube-proxy", [_bin("kube-proxy"), "--config", str(config)])
    if "traefik" in dead:
        _apply(ingress.RBAC)
        token = _kubectl("create", "token", ingress.SERVICE_ACCOUNT, "-n", "kube-system",
                         "--duration", ingress.TOKEN_DURATION).stdout.strip()
        config = ingress.write_config(node_dir() / "traefik", _server(), _kwok_pki() / "ca.crt", token)
        say(f"real node: starting the ingress controller (Traefik) on {ingress.HTTP_ADDRESS}:{ingress.HTTP_PORT} "
            f"and :{ingress.HTTPS_PORT}")
        _start("traefik", [_bin("traefik"), f"--configFile={config}"])
    _wait("CoreDNS ready", lambda: _http_ok(f"http://127.0.0.1:{DNS_READY_PORT}/ready"), 60, "coredns")
    _wait(f"node {NODE_NAME} Ready", lambda: (_node_conditions() or {}).get("Ready") == "True", 90, "kubelet")
    _wait("kube-proxy healthy", lambda: _http_ok(f"http://127.0.0.1:{PROXY_HEALTHZ_PORT}/healthz"), 60,
          "kube-proxy")
    _wait("Traefik ready", lambda: _http_ok(ingress.ping_url()), 60, "traefik")
    say(f"real node {NODE_NAME} Ready (label {NODE_LABEL})")


def _apply(manifest: str) -> None:
    from sandboxes.cluster.embedded import _bin as cluster_bin
    from sandboxes.cluster.embedded import _env

    cmd = [cluster_bin("kubectl"), "--kubeconfig", str(embedded_kubeconfig()), "apply", "-f", "-"]
    proc = subprocess.run(cmd, input=manifest, env=_env(), capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise RealNodeError(f"kubectl apply failed: {proc.stderr.strip()[:300]}")


def _http_ok(url: str) -> bool:

    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def down(progress: Progress | None = None, api_reachable: bool = True) -> bool:
    """Stop every real-node process and remove everything it made on the host. Returns whether anything was there."""
    say = progress or (lambda _msg: None)
    if not node_dir().exists() and not (_bridge_exists() and _own_bridge()):
        return False
    if api_reachable and enabled():
        try:
            _drain(say)
        except (RealNodeError, OSError, subprocess.SubprocessError) as err:
            say(f"real node: drain failed ({err}); stopping processes directly")
    for name in ("traefik", "kube-proxy", "kubelet", "coredns"):
        _stop(name)
    if _alive("containerd"):
        for line in ctr("tasks", "ls", check=False).stdout.splitlines()[1:]:
            task = line.split()[0] if line.split() else ""
            if task:
                ctr("tasks", "kill", "--all", "--signal", "SIGKILL", task, check=False, timeout=15)
    _kill_cgroup_processes()
    _stop("containerd")
    _kill_shims()
    time.sleep(0.3)
    _kill_cgroup_processes()
    for mount_point in _mounts_under(node_dir()):
        proc = subprocess.run(["umount", mount_point], capture_output=True, check=False)
        if proc.returncode != 0:
            subprocess.run(["umount", "-l", mount_point], capture_output=True, check=False)
    removed = _remove_network()
    if (toolchain_bin_dir() / "kube-proxy").exists():
        subprocess.run([_bin("kube-proxy"), "--cleanup"], capture_output=True, check=False, timeout=60)
    for family in ("ip", "ip6"):
        subprocess.run(["nft", "delete", "table", family, "kube-proxy"], capture_output=True, check=False)
    for cached in (CNI_CACHE_DIR / "results").glob(f"{CNI_NETWORK}-*"):
        cached.unlink(missing_ok=True)
    _remove_cgroups()
    if api_reachable:
        with contextlib.suppress(RealNodeError):
            _kubectl("delete", "node", NODE_NAME, "--ignore-not-found", check=False, timeout=15)
    leftover = _mounts_under(node_dir())
    if leftover:
        say(f"real node: mounts still busy, not removing {node_dir()}: {', '.join(leftover[:5])}")
    else:
        shutil.rmtree(node_dir(), ignore_errors=True)
    say("real node removed" + (f" ({', '.join(removed)})" if removed else ""))
    return True
