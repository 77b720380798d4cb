"""Names, addresses and ports of the real node, and its error type: shared by its modules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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
# The package directory of the cluster code (node/pause: the pause image's Go source).
_HERE = Path(__file__).resolve().parent.parent

Progress = Callable[[str], None]


class RealNodeError(RuntimeError):
    """The real node could not be started; the message says exactly what is missing."""
