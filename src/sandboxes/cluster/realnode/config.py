"""The configuration files of containerd, the CNI bridge, the kubelet, kube-proxy and CoreDNS."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from sandboxes.cluster.realnode.base import (
    BRIDGE,
    CGROUP_ROOT,
    CLUSTER_DOMAIN,
    CNI_BIN_DIR,
    CNI_NETWORK,
    DNS_PORT,
    DNS_READY_PORT,
    GATEWAY,
    KUBELET_HEALTHZ_PORT,
    KUBELET_PORT,
    NODE_NAME,
    PROXY_HEALTHZ_PORT,
    PROXY_METRICS_PORT,
    SUBNET,
)
from sandboxes.cluster.realnode.host import _kwok_pki, containerd_socket, node_dir

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


