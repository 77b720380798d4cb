"""The embedded Kubernetes cluster the project starts itself (kwok, binary runtime)."""

from sandboxes.cluster.embedded import DEFAULT_NODES, ClusterError, ClusterStatus, Progress, down, kubectl, status, up

__all__ = ["DEFAULT_NODES", "ClusterError", "ClusterStatus", "Progress", "down", "kubectl", "status", "up"]
