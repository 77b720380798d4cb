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
import hashlib
import io
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sandboxes.cluster import ingress
from sandboxes.environment import embedded_kubeconfig
from sandboxes.paths import cache_dir, toolchain_bin_dir
from sandboxes.processes import process_alive

NODE_NAME = "sandboxes-real"
NODE_LABEL_KEY = "sandboxes.io/node"
NODE_LABEL_VALUE = "real"
NODE_LABEL = f"{NODE_LABEL_KEY}={NODE_LABEL_VALUE}"
BRIDGE = "sbx0"
SUBNET = "10.244.0.0/24"
GATEWAY = "10.244.0.1"
CNI_NETWORK = "sandboxes-node"
CNI_BIN_DIR = Path("/usr/lib/cni")
CNI_CACHE_DIR = Path("/var/lib/cni")
CLUSTER_DOMAIN = "cluster.local"
CGROUP_ROOT = "sandboxes-node"
PAUSE_REPO = "localhost/sandboxes/pause"
KUBELET_PORT = 10250
KUBELET_HEALTHZ_PORT = 10248
PROXY_HEALTHZ_PORT = 10256
PROXY_METRICS_PORT = 10249
DNS_PORT = 53
DNS_READY_PORT = 8181
PROCESSES = ("containerd", "coredns", "kubelet", "kube-proxy", "traefik")
_HERE = Path(__file__).parent

Progress = Callable[[str], None]


class RealNodeError(RuntimeError):
    """The real node could not be started; the message says exactly what is missing."""


# --- paths --------------------------------------------------------------------------------


def node_dir() -> Path:
    from sandboxes.cluster.embedded import cluster_dir

    return cluster_dir() / "node"


def _kwok_pki() -> Path:
    from sandboxes.cluster.embedded import CLUSTER_NAME, cluster_dir

    return cluster_dir() / "kwok" / "clusters" / CLUSTER_NAME / "pki"


def containerd_socket() -> Path:
    return node_dir() / "containerd" / "containerd.sock"


def _pid_file(name: str) -> Path:
    return node_dir() / "pids" / f"{name}.pid"


def _log_file(name: str) -> Path:
    return node_dir() / "logs" / f"{name}.log"


def _bin(name: str) -> str:
    return str(toolchain_bin_dir() / name)


# --- preflight ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Listener:
    proto: str  # "tcp" or "udp"
    address: str
    port: int


class HostProbe:
    """Everything preflight asks the host; tests substitute a fake."""

    def platform(self) -> str:
        return sys.platform

    def euid(self) -> int:
        return os.geteuid()

    def which(self, name: str) -> str | None:
        return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))

    def exists(self, path: str) -> bool:
        return Path(path).exists()

    def read(self, path: str) -> str | None:
        try:
            return Path(path).read_text()
        except OSError:
            return None

    def run_ok(self, cmd: Sequence[str]) -> tuple[bool, str]:
        try:
            proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            return False, str(err)
        return proc.returncode == 0, (proc.stderr or proc.stdout).strip()

    def listeners(self) -> list[Listener]:
        return _proc_net_listeners()

    def toolchain_has(self, binary: str) -> bool:
        return (toolchain_bin_dir() / binary).exists()


def _proc_net_listeners() -> list[Listener]:
    found: list[Listener] = []
    for proto, fname, v6 in (("tcp", "tcp", False), ("tcp", "tcp6", True), ("udp", "udp", False),
                             ("udp", "udp6", True)):
        try:
            lines = Path(f"/proc/net/{fname}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) < 4:
                continue
            local, state = parts[1], parts[3]
            if proto == "tcp" and state != "0A":
                continue
            addr_hex, port_hex = local.split(":")
            raw = bytes.fromhex(addr_hex)
            if v6:
                words = [raw[i:i + 4][::-1] for i in range(0, 16, 4)]
                ip = str(ipaddress.IPv6Address(b"".join(words)))
                mapped = ipaddress.IPv6Address(ip).ipv4_mapped
                ip = str(mapped) if mapped else ip
            else:
                ip = str(ipaddress.IPv4Address(raw[::-1]))
            found.append(Listener(proto, ip, int(port_hex, 16)))
    return found


# (binary, Debian package) the real node runs or calls.
REQUIRED_COMMANDS = (
    ("containerd", "containerd"),
    ("ctr", "containerd"),
    ("containerd-shim-runc-v2", "containerd"),
    ("runc", "runc"),
    ("ip", "iproute2"),
    ("nft", "nftables"),
    ("openssl", "openssl"),
    ("mount", "mount"),
    ("umount", "mount"),
    ("go", "golang (or the Go toolchain `make toolchain` uses)"),
)
REQUIRED_CNI_PLUGINS = ("bridge", "host-local", "portmap", "loopback")
NODE_TOOLCHAIN = (("kubelet", "make toolchain-node"), ("kube-proxy", "make toolchain-node"),
                  ("coredns", "make toolchain-node"), ("traefik", "make toolchain-node"))


def _port_wants() -> dict[str, list[tuple[str, str, int]]]:
    return {
        "kubelet": [("tcp", GATEWAY, KUBELET_PORT), ("tcp", "127.0.0.1", KUBELET_HEALTHZ_PORT)],
        "kube-proxy": [("tcp", "127.0.0.1", PROXY_HEALTHZ_PORT), ("tcp", "127.0.0.1", PROXY_METRICS_PORT)],
        "coredns": [("udp", GATEWAY, DNS_PORT), ("tcp", GATEWAY, DNS_PORT), ("tcp", "127.0.0.1", DNS_READY_PORT)],
        "traefik": ingress.ports(),
    }


def preflight(
    probe: HostProbe | None = None,
    starting: Iterable[str] = PROCESSES,
    own_bridge: bool | None = None,
) -> list[str]:
    """Every reason the real node cannot start here, each with what to do; empty when it can."""
    p = probe or HostProbe()
    problems: list[str] = []
    if not p.platform().startswith("linux"):
        return [f"the real node needs Linux (containers, network namespaces, cgroups); this is {p.platform()}"]
    if p.euid() != 0:
        problems.append(
            "the real node needs root (containerd, the kubelet and the CNI bridge create network namespaces, "
            "cgroups, mounts and interfaces): run 'sudo sandboxctl cluster up --real-node'"
        )
    missing_pkgs: dict[str, list[str]] = {}
    for binary, package in REQUIRED_COMMANDS:
        if p.which(binary) is None:
            missing_pkgs.setdefault(package, []).append(binary)
    for plugin in REQUIRED_CNI_PLUGINS:
        if not p.exists(str(CNI_BIN_DIR / plugin)):
            missing_pkgs.setdefault("containernetworking-plugins", []).append(f"{CNI_BIN_DIR}/{plugin}")
    for package, binaries in missing_pkgs.items():
        problems.append(f"missing {', '.join(binaries)}: install the Debian package {package} "
                        "(all at once: sudo .ci/install-node-tools)")
    absent = [b for b, _ in NODE_TOOLCHAIN if not p.toolchain_has(b)]
    if absent:
        problems.append(f"toolchain binaries missing ({', '.join(absent)}): run 'make toolchain-node'")
    # kernel features
    if not (p.exists("/sys/module/bridge") or p.exists("/proc/sys/net/bridge")):
        problems.append("kernel: no bridge support (module 'bridge'): run 'modprobe bridge' "
                        "or use a kernel with CONFIG_BRIDGE")
    if p.read("/proc/sys/net/bridge/bridge-nf-call-iptables") is None:
        problems.append("kernel: br_netfilter is not loaded (Service traffic between pods on the bridge needs it): "
                        "run 'modprobe br_netfilter'")
    elif (p.read("/proc/sys/net/bridge/bridge-nf-call-iptables") or "").strip() != "1":
        problems.append("kernel: net.bridge.bridge-nf-call-iptables is 0: run 'sysctl -w "
                        "net.bridge.bridge-nf-call-iptables=1'")
    if (p.read("/proc/sys/net/ipv4/ip_forward") or "0").strip() != "1":
        problems.append("kernel: IPv4 forwarding is off: run 'sysctl -w net.ipv4.ip_forward=1'")
    if p.which("nft") is not None:
        ok, detail = p.run_ok(["nft", "list", "tables"])
        if not ok:
            problems.append(f"kernel: nftables unusable ('nft list tables': {detail[:160]}): "
                            "load nf_tables ('modprobe nf_tables') or use a kernel with CONFIG_NF_TABLES")
    filesystems = p.read("/proc/filesystems") or ""
    if "overlay" not in filesystems:
        problems.append("kernel: no overlay filesystem (containerd's snapshotter): run 'modprobe overlay'")
    controllers = _cgroup_controllers(p)
    lacking = [c for c in ("cpu", "memory", "pids") if c not in controllers]
    if lacking:
        problems.append(f"kernel: cgroup controllers missing or not mounted under /sys/fs/cgroup: {', '.join(lacking)}")
    # the bridge and the addresses
    bridge_exists = p.exists(f"/sys/class/net/{BRIDGE}")
    if own_bridge is None:
        own_bridge = (p.read(f"/sys/class/net/{BRIDGE}/ifalias") or "").strip() == _bridge_alias()
    if bridge_exists and not own_bridge:
        owner = (p.read(f"/sys/class/net/{BRIDGE}/ifalias") or "").strip() or "not sandboxes"
        problems.append(f"interface {BRIDGE} already exists and belongs to someone else ({owner}): "
                        "only one real node per machine; run 'sandboxctl cluster down' with its data directory")
    # ports of the processes about to start
    wants = _port_wants()
    taken = p.listeners()
    for name in starting:
        for proto, address, port in wants.get(name, []):
            for listener in taken:
                if listener.proto == proto and listener.port == port and listener.address in (
                    address, "0.0.0.0", "::"
                ):
                    problems.append(f"port {proto}/{port} on {address} (for {name}) is already taken "
                                    f"by a listener on {listener.address}: stop that process")
                    break
    return problems


def _cgroup_controllers(p: HostProbe) -> set[str]:
    v2 = p.read("/sys/fs/cgroup/cgroup.controllers")
    if v2 is not None:
        return set(v2.split())
    return {c for c in ("cpu", "memory", "pids", "cpuset", "devices", "freezer") if p.exists(f"/sys/fs/cgroup/{c}")}


def _bridge_alias() -> str:
    return f"sandboxes:{node_dir()}"


# --- small helpers ------------------------------------------------------------------------


def _run(cmd: Sequence[str], check: bool = True, timeout: float = 120, env: dict[str, str] | None = None,
         input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    log = node_dir() / "logs" / "commands.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, check=False, env=env,
                          input=input_text)
    with log.open("a") as handle:
        handle.write(f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}(exit {proc.returncode})\n")
    if check and proc.returncode != 0:
        raise RealNodeError(f"{' '.join(cmd[:4])} failed (exit {proc.returncode}): "
                            f"{(proc.stderr or proc.stdout).strip()[:400]}")
    return proc


def _pid(name: str) -> int | None:
    try:
        return int(_pid_file(name).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(name: str) -> bool:
    pid = _pid(name)
    if pid is None:
        return False
    if not process_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return False
    return Path(cmdline).name == Path(_binary_of(name)).name


def _binary_of(name: str) -> str:
    return "containerd" if name == "containerd" else name


def _start(name: str, cmd: Sequence[str]) -> int:
    log = _log_file(name)
    log.parent.mkdir(parents=True, exist_ok=True)
    _pid_file(name).parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as handle:
        handle.write(f"\n$ {' '.join(cmd)}\n")
        handle.flush()
        proc = subprocess.Popen(list(cmd), stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=str(node_dir()))
    _pid_file(name).write_text(f"{proc.pid}\n")
    return proc.pid


def _stop(name: str, timeout: float = 10) -> None:
    pid = _pid(name)
    if pid is not None and _alive(name):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(name):
            time.sleep(0.1)
        if _alive(name):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        with contextlib.suppress(OSError):  # reap if it is our child
            os.waitpid(pid, os.WNOHANG)
    _pid_file(name).unlink(missing_ok=True)


def _log_tail(name: str, lines: int = 8) -> str:
    try:
        text = _log_file(name).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    " + line[:300] for line in text[-lines:])


def _wait(what: str, check: Callable[[], bool], timeout: float, process: str | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if process and not _alive(process):
            raise RealNodeError(f"{process} exited while waiting for {what}; log {_log_file(process)}:\n"
                                f"{_log_tail(process)}")
        time.sleep(0.2)
    raise RealNodeError(f"timed out after {timeout:.0f}s waiting for {what}"
                        + (f"; log {_log_file(process)}:\n{_log_tail(process)}" if process else ""))


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _kubectl(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    from sandboxes.cluster.embedded import ClusterError, kubectl

    try:
        return kubectl(*args, check=check, timeout=timeout)
    except ClusterError as err:
        raise RealNodeError(str(err)) from err


# --- certificates and kubeconfigs ---------------------------------------------------------


def _client_cert(name: str, common_name: str, organization: str | None) -> tuple[Path, Path]:
    """A client certificate signed by the kwok cluster's CA (openssl), reused while the CA is the same."""
    pki = node_dir() / "pki"
    pki.mkdir(parents=True, exist_ok=True)
    ca_crt, ca_key = _kwok_pki() / "ca.crt", _kwok_pki() / "ca.key"
    if not ca_crt.is_file() or not ca_key.is_file():
        raise RealNodeError(f"cluster CA not found in {_kwok_pki()}: run 'sandboxctl cluster up' first")
    crt, key = pki / f"{name}.crt", pki / f"{name}.key"
    ca_digest = hashlib.sha256(ca_crt.read_bytes()).hexdigest()
    stamp = pki / f"{name}.ca-sha256"
    if crt.is_file() and key.is_file() and stamp.is_file() and stamp.read_text() == ca_digest:
        return crt, key
    subject = (f"/O={organization}" if organization else "") + f"/CN={common_name}"
    csr, ext = pki / f"{name}.csr", pki / f"{name}.ext"
    ext.write_text("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=clientAuth\n")
    _run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-subj", subject,
          "-out", str(csr)])
    _run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
          "-set_serial", f"0x{secrets.token_hex(16)}", "-days", "365", "-extfile", str(ext), "-out", str(crt)])
    key.chmod(0o600)
    csr.unlink(missing_ok=True)
    stamp.write_text(ca_digest)
    return crt, key


def _server() -> str:
    config = yaml.safe_load(embedded_kubeconfig().read_text())
    return str(config["clusters"][0]["cluster"]["server"])


def _kubeconfig(name: str, crt: Path, key: Path) -> Path:
    path = node_dir() / "pki" / f"{name}.kubeconfig"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "sandboxes", "cluster": {"server": _server(),
                                                      "certificate-authority": str(_kwok_pki() / "ca.crt")}}],
        "users": [{"name": name, "user": {"client-certificate": str(crt), "client-key": str(key)}}],
        "contexts": [{"name": "sandboxes", "context": {"cluster": "sandboxes", "user": name}}],
        "current-context": "sandboxes",
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path


# --- images without a registry ------------------------------------------------------------


def build_static_go(source: Path, name: str) -> Path:
    """``CGO_ENABLED=0 go build`` of a dependency-free main package, cached by its sources' hash."""
    digest = hashlib.sha256()
    for path in sorted(source.glob("*")):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    out = cache_dir() / "tools" / name / digest.hexdigest()[:16]
    binary = out / name
    if binary.is_file():
        return binary
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(CGO_ENABLED="0", GOFLAGS="-buildvcs=false -trimpath", GOTOOLCHAIN="local",
               GOCACHE=str(cache_dir() / "go" / "build"), GOMODCACHE=str(cache_dir() / "go" / "mod"))
    proc = subprocess.run(["go", "build", "-ldflags", "-s -w", "-o", str(binary), "."], cwd=source, env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RealNodeError(f"go build of {source} failed: {proc.stderr.strip()[:400]}")
    return binary


def image_archive(path: Path, ref: str, files: dict[str, tuple[bytes, int]], entrypoint: list[str],
                  cmd: list[str] | None = None) -> Path:
    """Write a docker-archive (``docker save`` layout) holding one layer with ``files``: ``ctr import`` reads it."""
    layer_buf = io.BytesIO()
    with tarfile.open(fileobj=layer_buf, mode="w", format=tarfile.USTAR_FORMAT) as layer:
        dirs: set[str] = set()
        for name in sorted(files):
            parts = name.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    info = tarfile.TarInfo(d)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    layer.addfile(info)
                    dirs.add(d)
            data, mode = files[name]
            info = tarfile.TarInfo(name.strip("/"))
            info.size, info.mode = len(data), mode
            layer.addfile(info, io.BytesIO(data))
        for d in ("tmp", "etc"):
            if d not in dirs:
                info = tarfile.TarInfo(d)
                info.type, info.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
                layer.addfile(info)
    layer_bytes = layer_buf.getvalue()
    layer_id = hashlib.sha256(layer_bytes).hexdigest()
    config = {
        "architecture": {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine),
        "os": "linux",
        "config": {"Entrypoint": entrypoint, "Cmd": cmd, "Env": ["PATH=/"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_id}"]},
        "history": [{"created_by": "sandboxes.cluster.realnode.image_archive"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_id = hashlib.sha256(config_bytes).hexdigest()
    manifest = [{"Config": f"{config_id}.json", "RepoTags": [ref], "Layers": [f"{layer_id}/layer.tar"]}]
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as archive:
        for name, data in ((f"{layer_id}/layer.tar", layer_bytes), (f"{config_id}.json", config_bytes),
                           ("manifest.json", json.dumps(manifest).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def ctr(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return _run(["ctr", "--address", str(containerd_socket()), "--namespace", "k8s.io", *args], check=check,
                timeout=timeout)


def import_image(archive: Path) -> None:
    """Import an image archive into the real node's containerd (CRI namespace ``k8s.io``)."""
    ctr("images", "import", "--no-unpack=false", str(archive), timeout=300)


def has_image(ref: str) -> bool:
    proc = ctr("images", "ls", "-q", check=False)
    return ref in proc.stdout.split()


def _pause_image() -> str:
    binary = build_static_go(_HERE / "node" / "pause", "sandboxes-pause")
    digest = hashlib.sha256(binary.read_bytes()).hexdigest()[:16]
    return f"{PAUSE_REPO}:{digest}"


def _ensure_pause_image(ref: str) -> None:
    if has_image(ref):
        return
    binary = build_static_go(_HERE / "node" / "pause", "sandboxes-pause")
    archive = image_archive(node_dir() / "images" / "pause.tar", ref, {"pause": (binary.read_bytes(), 0o755)},
                            ["/pause"])
    import_image(archive)


# --- configuration files ------------------------------------------------------------------


def _write_containerd_config(pause_ref: str) -> Path:
    base = node_dir() / "containerd"
    for sub in ("root", "state", "opt"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    text = f"""# Written by sandboxes.cluster.realnode; regenerated on every 'cluster up --real-node'.
version = 2
root = "{base / 'root'}"
state = "{base / 'state'}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{containerd_socket()}"

[ttrpc]
  address = "{containerd_socket()}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{base / 'opt'}"

[{cri}]
  sandbox_image = "{pause_ref}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  netns_mounts_under_state_dir = true
  disable_apparmor = true

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  BinaryName = "{shutil.which('runc') or '/usr/sbin/runc'}"

[{cri}.cni]
  bin_dir = "{CNI_BIN_DIR}"
  conf_dir = "{node_dir() / 'cni' / 'net.d'}"
  max_conf_num = 1
"""
    path = base / "config.toml"
    path.write_text(text)
    return path


def _write_cni_config() -> Path:
    conf_dir = node_dir() / "cni" / "net.d"
    conf_dir.mkdir(parents=True, exist_ok=True)
    conf = {
        "cniVersion": "1.0.0",
        "name": CNI_NETWORK,
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": SUBNET, "gateway": GATEWAY}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(node_dir() / "cni" / "ipam"),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    path = conf_dir / "10-sandboxes.conflist"
    path.write_text(json.dumps(conf, indent=2))
    # The loopback interface: containerd's CRI plugin sets up "lo" itself with the loopback plugin.
    return path


def _write_kubelet_config(pause_ref: str) -> Path:
    kdir = node_dir() / "kubelet"
    (kdir / "root").mkdir(parents=True, exist_ok=True)
    (kdir / "pki").mkdir(parents=True, exist_ok=True)
    resolv = kdir / "resolv.conf"
    resolv.write_text(f"nameserver {GATEWAY}\nsearch {CLUSTER_DOMAIN}\noptions ndots:1\n")
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": GATEWAY,
        "port": KUBELET_PORT,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": KUBELET_HEALTHZ_PORT,
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": f"/{CGROUP_ROOT}",
        "failSwapOn": False,
        "failCgroupV1": False,
        "makeIPTablesUtilChains": False,
        "resolvConf": str(resolv),
        "clusterDNS": [GATEWAY],
        "clusterDomain": CLUSTER_DOMAIN,
        "containerRuntimeEndpoint": f"unix://{containerd_socket()}",
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True, "cacheTTL": "30s"},
            "x509": {"clientCAFile": str(_kwok_pki() / "ca.crt")},
        },
        "authorization": {"mode": "Webhook", "webhook": {"cacheAuthorizedTTL": "30s",
                                                         "cacheUnauthorizedTTL": "10s"}},
        "staticPodPath": "",
        "serializeImagePulls": False,
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {"memory.available": "50Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
        "podPidsLimit": 4096,
        "maxPods": 110,
    }
    path = kdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _write_proxy_config(kubeconfig: Path) -> Path:
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "nftables",
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "hostnameOverride": NODE_NAME,
        "bindAddress": "127.0.0.1",
        "healthzBindAddress": f"127.0.0.1:{PROXY_HEALTHZ_PORT}",
        "metricsBindAddress": f"127.0.0.1:{PROXY_METRICS_PORT}",
        "clusterCIDR": SUBNET,
        "nodePortAddresses": [f"{GATEWAY}/32"],
        # Leave the host's conntrack sysctls alone.
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
    }
    path = node_dir() / "kube-proxy" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _upstream_nameservers() -> list[str]:
    try:
        lines = Path("/etc/resolv.conf").read_text().splitlines()
    except OSError:
        return []
    servers = [line.split()[1] for line in lines if line.startswith("nameserver") and len(line.split()) > 1]
    return [s for s in servers if s != GATEWAY]


def _write_corefile(kubeconfig: Path) -> Path:
    upstream = _upstream_nameservers()
    forward = f"    forward . {' '.join(upstream)}\n" if upstream else ""
    text = f""".:{DNS_PORT} {{
    bind {GATEWAY}
    errors
    ready 127.0.0.1:{DNS_READY_PORT}
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        kubeconfig {kubeconfig} sandboxes
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }}
{forward}    cache 5
}}
"""
    path = node_dir() / "coredns" / "Corefile"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


COREDNS_USER = "system:sandboxes:coredns"
_COREDNS_RBAC = f"""
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: sandboxes:coredns
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: sandboxes:coredns
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: sandboxes:coredns
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: {COREDNS_USER}
"""


# --- network ------------------------------------------------------------------------------


def _bridge_exists() -> bool:
    return Path(f"/sys/class/net/{BRIDGE}").exists()


def _own_bridge() -> bool:
    try:
        return Path(f"/sys/class/net/{BRIDGE}/ifalias").read_text().strip() == _bridge_alias()
    except OSError:
        return False


def _ensure_bridge() -> None:
    if not _bridge_exists():
        _run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        _run(["ip", "link", "set", BRIDGE, "alias", _bridge_alias()])
    addrs = _run(["ip", "-4", "-o", "addr", "show", "dev", BRIDGE]).stdout
    if f"{GATEWAY}/" not in addrs:
        _run(["ip", "addr", "add", f"{GATEWAY}/24", "dev", BRIDGE])
    _run(["ip", "link", "set", BRIDGE, "up"])


def _remove_network() -> list[str]:
    done: list[str] = []
    if _bridge_exists() and _own_bridge():
        ports = _run(["ip", "-o", "link", "show", "master", BRIDGE], check=False).stdout
        for line in ports.splitlines():
            name = line.split(":")[1].strip().split("@")[0]
            _run(["ip", "link", "delete", name], check=False)
            done.append(f"veth {name}")
        _run(["ip", "link", "delete", BRIDGE], check=False)
        done.append(f"bridge {BRIDGE}")
    return done


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


def _node_conditions() -> dict[str, str] | None:
    proc = _kubectl("get", "node", NODE_NAME, "-o", "json", check=False, timeout=10)
    if proc.returncode != 0:
        return None
    node = json.loads(proc.stdout)
    return {c["type"]: c["status"] for c in node.get("status", {}).get("conditions", [])}


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
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


# --- down ---------------------------------------------------------------------------------


def _mounts_under(root: Path) -> list[str]:
    prefix = str(root.resolve()) + "/"
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        mount_point = line.split()[4].encode().decode("unicode_escape")
        if mount_point.startswith(prefix) or mount_point == prefix.rstrip("/"):
            found.append(mount_point)
    return sorted(set(found), key=lambda m: m.count("/"), reverse=True)


def _cgroup_dirs() -> list[Path]:
    base = Path("/sys/fs/cgroup")
    dirs = [base / CGROUP_ROOT] if (base / "cgroup.controllers").exists() else [
        c / CGROUP_ROOT for c in base.iterdir() if (c / CGROUP_ROOT).is_dir()
    ]
    return [d for d in dirs if d.is_dir()]


def _ensure_cgroup_root() -> None:
    """The kubelet's cgroupRoot (/sandboxes-node) in every hierarchy: the kubelet wants it to exist."""
    base = Path("/sys/fs/cgroup")
    if (base / "cgroup.controllers").exists():
        (base / CGROUP_ROOT).mkdir(exist_ok=True)
        return
    for hierarchy in sorted(p for p in base.iterdir() if p.is_dir() and (p / "cgroup.procs").exists()):
        target = hierarchy / CGROUP_ROOT
        target.mkdir(exist_ok=True)
        if hierarchy.name == "cpuset":
            for knob in ("cpuset.cpus", "cpuset.mems"):
                if not (target / knob).read_text().strip():
                    (target / knob).write_text((hierarchy / knob).read_text())


def _kill_cgroup_processes() -> int:
    killed = 0
    for top in _cgroup_dirs():
        for procs in top.rglob("cgroup.procs"):
            try:
                pids = [int(x) for x in procs.read_text().split()]
            except (OSError, ValueError):
                continue
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except OSError:
                    pass
    return killed


def _remove_cgroups() -> int:
    removed = 0
    for top in _cgroup_dirs():
        for d in sorted([p for p in top.rglob("*") if p.is_dir()] + [top], key=lambda p: len(p.parts),
                        reverse=True):
            try:
                d.rmdir()
                removed += 1
            except OSError:
                pass
    return removed


def _kill_shims() -> None:
    sock = str(containerd_socket())
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            cmdline = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "containerd-shim" in cmdline and sock in cmdline:
            with contextlib.suppress(OSError):
                os.kill(int(proc_dir.name), signal.SIGKILL)


def _drain(say: Progress) -> None:
    """Remove the node's pods through the API so the kubelet tears their sandboxes (and CNI) down."""
    if _node_conditions() is None:
        return
    _kubectl("cordon", NODE_NAME, check=False, timeout=15)
    _kubectl("delete", "pods", "--all-namespaces", "--field-selector", f"spec.nodeName={NODE_NAME}",
             "--grace-period=0", "--force", "--wait=false", check=False, timeout=30)
    if _alive("kubelet") and _alive("containerd"):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            tasks = ctr("tasks", "ls", check=False).stdout.splitlines()[1:]
            if not [t for t in tasks if "RUNNING" in t]:
                break
            time.sleep(0.5)
    say(f"real node: pods removed from {NODE_NAME}")


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
