"""``SandboxNamespace``: the sandbox's own namespace and everything that bounds it.

Holds the Namespace (named exactly the slug, Pod Security ``restricted`` enforced),
the ResourceQuota and LimitRange of the size preset, the access Role and RoleBinding,
and the *ingress* side of the network rules: the namespace is closed by default and
only the listed peers may reach in. The *egress* side (what a sandbox may reach out
to) belongs to ``DisabledIntegrations``, because that is what keeps a sandbox from
talking to production systems.

Nothing here is cluster-wide except the Namespace itself: access is a namespaced Role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from sandboxes.spec import SandboxSpec

from .defaults import ProjectDefaults
from .fieldmanager import sandbox_annotations
from .labels import (
    COMPONENT_DATABASE,
    COMPONENT_DEVICES,
    COMPONENT_LABEL,
    COMPONENT_SEED,
    COMPONENT_WEB,
    PARENT_LABEL,
    sandbox_labels,
    selector_labels,
)
from .naming import ObjectNames
from .sizes import preset

__all__ = [
    "DATABASE_PORT",
    "PROVIDER_GROUP_PREFIX",
    "WEB_PORT",
    "SandboxNamespace",
    "SandboxNamespaceArgs",
    "pod_security_labels",
    "role_rules",
    "role_subjects",
]

WEB_PORT = 8080
DATABASE_PORT = 5432
PROVIDER_GROUP_PREFIX = "sandboxes.io:provider:"
_RBAC_GROUP = "rbac.authorization.k8s.io"
_READ = ["get", "list", "watch"]
_READ_WRITE = [*_READ, "create", "update", "patch", "delete"]


def pod_security_labels() -> dict[str, str]:
    """Enforce ``restricted``; audit and warn at the same level so violations are also visible, not only refused."""
    return {
        f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")
    } | {f"pod-security.kubernetes.io/{mode}-version": "latest" for mode in ("enforce", "audit", "warn")}


def role_rules(names: ObjectNames) -> list[dict[str, Any]]:
    """What a sandbox's users may do inside its namespace.

    Read/write on the everyday objects (pods, services, config maps, deployments, jobs),
    read-only on logs and events. Secrets: ``get`` of the API credentials secret only,
    by name. The database secret and the parent-database secret are deliberately not
    readable: the first is the workload's own credential, the second belongs to another
    sandbox. No ``list`` on secrets at all (a list returns every secret's data).
    """
    return [
        {"apiGroups": [""], "resources": ["pods", "services", "configmaps"], "verbs": _READ_WRITE},
        {"apiGroups": [""], "resources": ["pods/log", "events"], "verbs": _READ},
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": _READ},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": _READ_WRITE},
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": _READ_WRITE},
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": [names.api_credentials], "verbs": ["get"]},
    ]


def role_subjects(spec: SandboxSpec) -> list[dict[str, str]]:
    """The owning provider's group, then ``access.groups`` and ``access.users``; a prospect has only the extras."""
    subjects: list[dict[str, str]] = []
    if spec.provider_id:
        subjects.append({"kind": "Group", "apiGroup": _RBAC_GROUP, "name": PROVIDER_GROUP_PREFIX + spec.provider_id})
    subjects += [{"kind": "Group", "apiGroup": _RBAC_GROUP, "name": g} for g in spec.access.groups]
    subjects += [{"kind": "User", "apiGroup": _RBAC_GROUP, "name": u} for u in spec.access.users]
    return subjects


@dataclass(frozen=True)
class SandboxNamespaceArgs:
    spec: SandboxSpec
    defaults: ProjectDefaults


class SandboxNamespace(pulumi.ComponentResource):
    """The namespace of one sandbox and its quota, limits, access and ingress network rules."""

    name: pulumi.Output[str]

    def __init__(self, name: str, args: SandboxNamespaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sandboxes:index:SandboxNamespace", name, None, opts)
        spec = args.spec
        names = ObjectNames(spec.slug)
        size = preset(spec.platform.size)
        child = pulumi.ResourceOptions(parent=self)

        def meta(obj_name: str, component: str) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(
                name=obj_name, namespace=ns_name, labels=sandbox_labels(spec, component),
                annotations=sandbox_annotations(spec.slug),
            )

        self.namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=names.namespace,
                labels=sandbox_labels(spec, "namespace") | pod_security_labels(),
                annotations=sandbox_annotations(spec.slug),
            ),
            opts=child,
        )
        ns_name: pulumi.Output[str] = self.namespace.metadata.apply(lambda m: m.name)
        self.name = ns_name

        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=meta(names.quota, "quota"),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(hard=size.quota_hard()),
            opts=child,
        )
        res = size.container
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=meta(names.limits, "quota"),
            spec=k8s.core.v1.LimitRangeSpecArgs(
                limits=[
                    k8s.core.v1.LimitRangeItemArgs(
                        type="Container",
                        default_request={"cpu": res.cpu_request, "memory": res.memory_request},
                        default={"cpu": res.cpu_limit, "memory": res.memory_limit},
                    )
                ]
            ),
            opts=child,
        )

        self.role = k8s.rbac.v1.Role(
            f"{name}-role", metadata=meta(names.role, "access"), rules=role_rules(names), opts=child
        )
        self.role_binding = k8s.rbac.v1.RoleBinding(
            f"{name}-rolebinding",
            metadata=meta(names.role, "access"),
            role_ref={"apiGroup": _RBAC_GROUP, "kind": "Role", "name": self.role.metadata.apply(lambda m: m.name)},
            subjects=role_subjects(spec),
            opts=child,
        )

        def policy(suffix: str, component: str, spec_: dict[str, Any]) -> k8s.networking.v1.NetworkPolicy:
            return k8s.networking.v1.NetworkPolicy(
                f"{name}-{suffix}", metadata=meta(f"{spec.slug}-{suffix}", component), spec=spec_, opts=child
            )

        not_devices = {"key": COMPONENT_LABEL, "operator": "NotIn", "values": [COMPONENT_DEVICES]}
        self.network_policies = [
            # Closed by default, both ways; every allowed flow below and in DisabledIntegrations is explicit.
            policy("default-deny", "network", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
            # Pods of the sandbox may reach each other, except the device simulator, which only the
            # workload may reach (its own policy is made by DeviceSimulator).
            policy(
                "allow-same-namespace",
                "network",
                {
                    "podSelector": {"matchExpressions": [not_devices]},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": [{"podSelector": {}}]}],
                },
            ),
            policy(
                "allow-ingress-controller",
                "network",
                {
                    "podSelector": {"matchLabels": selector_labels(spec.slug, COMPONENT_WEB)},
                    "policyTypes": ["Ingress"],
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespaceSelector": {
                                        "matchLabels": {
                                            "kubernetes.io/metadata.name": args.defaults.ingress_controller_namespace
                                        }
                                    }
                                }
                            ],
                            "ports": [{"protocol": "TCP", "port": WEB_PORT}],
                        }
                    ],
                },
            ),
            # Children with data "copy" read this sandbox's database from their seed job. The rule
            # lives here so a child never has to change its parent's stack.
            policy(
                "allow-child-seed-to-db",
                "network",
                {
                    "podSelector": {"matchLabels": selector_labels(spec.slug, COMPONENT_DATABASE)},
                    "policyTypes": ["Ingress"],
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespaceSelector": {"matchLabels": {PARENT_LABEL: spec.slug}},
                                    "podSelector": {"matchLabels": {COMPONENT_LABEL: COMPONENT_SEED}},
                                }
                            ],
                            "ports": [{"protocol": "TCP", "port": DATABASE_PORT}],
                        }
                    ],
                },
            ),
        ]
        self.register_outputs({"name": self.name})
