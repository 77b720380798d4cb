"""Everything the real node needs, named before anything starts: root, Linux, kernel, packages, ports."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sandboxes.cluster import ingress
from sandboxes.cluster.realnode.base import (
    BRIDGE,
    CNI_BIN_DIR,
    DNS_PORT,
    DNS_READY_PORT,
    GATEWAY,
    KUBELET_HEALTHZ_PORT,
    KUBELET_PORT,
    PROCESSES,
    PROXY_HEALTHZ_PORT,
    PROXY_METRICS_PORT,
)
from sandboxes.cluster.realnode.host import node_dir
from sandboxes.paths import toolchain_bin_dir

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


