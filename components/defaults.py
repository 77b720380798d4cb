"""Project-wide defaults (``sandboxes:*`` in Pulumi.yaml) as one typed value.

Why a dataclass rather than reading ``pulumi.Config`` in each component: components
stay testable with plain values, and the program reads configuration in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

__all__ = ["ProjectDefaults", "parse_node_selector"]


def parse_node_selector(value: str) -> dict[str, str]:
    """``"k=v"`` (or ``"k1=v1,k2=v2"``) into a nodeSelector; empty means none."""
    selector: dict[str, str] = {}
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        key, sep, val = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"sandboxes:workloadNodeSelector: {part!r} is not 'key=value'")
        selector[key.strip()] = val.strip()
    return selector


def _local_images() -> dict[str, str]:
    """Images built here by ``make images`` (content-hash tags), used where config names none.

    An image named in config always wins: that is how a cluster with a registry is served.
    """
    from sandboxes.images import ImageError, image_refs

    try:
        return image_refs()
    except ImageError as err:
        raise ValueError(str(err)) from None


def _embedded_real_node() -> dict[str, str]:
    """The embedded cluster's real node, when it runs and the stack targets that cluster.

    Where config selects no node, sandbox pods go to the node that really runs containers
    (``sandboxctl cluster up --real-node``); kwok's nodes keep simulating everything else.
    """
    import os
    from pathlib import Path

    from sandboxes.cluster import realnode
    from sandboxes.environment import embedded_kubeconfig

    kubeconfig = os.environ.get("KUBECONFIG")
    if kubeconfig and Path(kubeconfig) != embedded_kubeconfig():
        return {}
    return {realnode.NODE_LABEL_KEY: realnode.NODE_LABEL_VALUE} if realnode.enabled() else {}


def _real_node_volume_dir(node_selector: dict[str, str]) -> str:
    """Where the database's ``local`` volumes live when its pod goes to the embedded real node.

    That node is this machine, so the program makes (and ``destroy`` removes) the volume's
    directory itself (components/volumes.py); kwok's fake hostPath volumes do not work
    for a non-root PostgreSQL and are never cleaned up.
    """
    from sandboxes.cluster import realnode

    if node_selector != {realnode.NODE_LABEL_KEY: realnode.NODE_LABEL_VALUE} or not _embedded_real_node():
        return ""
    return str(realnode.node_dir() / "volumes")


@dataclass(frozen=True)
class ProjectDefaults:
    base_domain: str = "sandboxes.localhost"
    ingress_class: str = "sandboxes"
    ingress_controller_namespace: str = "ingress-system"
    workload_image: str = "localhost/sandboxes/workload:latest"
    seed_image: str = "localhost/sandboxes/seed:latest"
    postgres_image: str = "localhost/sandboxes/postgres:15"
    devices_image: str = "localhost/sandboxes/device-simulator:latest"
    allow_masked_copy: bool = False
    # A cert-manager ClusterIssuer for sandboxes with TLS on; empty: each stack self-signs its certificate.
    tls_issuer: str = ""
    node_selector: dict[str, str] = field(default_factory=dict)
    # Non-empty: the database gets a ``local`` volume in a directory under this path (real node).
    local_volume_dir: str = ""

    @classmethod
    def from_config(cls, config: pulumi.Config | None = None) -> ProjectDefaults:
        """Read ``sandboxes:*``; a key left unset keeps the default written here (same as Pulumi.yaml)."""
        cfg = config or pulumi.Config("sandboxes")
        base = cls()
        built = _local_images()
        node_selector = parse_node_selector(cfg.get("workloadNodeSelector") or "") or _embedded_real_node()
        return cls(
            base_domain=cfg.get("baseDomain") or base.base_domain,
            ingress_class=cfg.get("ingressClass") or base.ingress_class,
            ingress_controller_namespace=cfg.get("ingressControllerNamespace") or base.ingress_controller_namespace,
            workload_image=cfg.get("workloadImage") or built.get("workload") or base.workload_image,
            seed_image=cfg.get("seedImage") or built.get("seed") or base.seed_image,
            postgres_image=cfg.get("postgresImage") or built.get("postgres") or base.postgres_image,
            devices_image=cfg.get("devicesImage") or built.get("device-simulator") or base.devices_image,
            allow_masked_copy=bool(cfg.get_bool("allowMaskedCopy") or False),
            tls_issuer=cfg.get("tlsIssuer") or base.tls_issuer,
            node_selector=node_selector,
            local_volume_dir=_real_node_volume_dir(node_selector),
        )
