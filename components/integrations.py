"""``DisabledIntegrations``: a sandbox never talks to the outside world.

Two halves of one promise. The workload's ``integrations.json`` lists every external
integration the platform knows (``sandboxes.spec.INTEGRATIONS``), each explicitly
``false`` — the spec model already refuses to enable one. And the egress rules make
sure that even a misconfigured workload cannot reach out: with the namespace's
default-deny, the only egress allowed is DNS, other pods of the same namespace, and
(``data: copy`` or ``masked-copy`` only) this sandbox's seed job to the parent sandbox's database. There is
no rule to ``0.0.0.0/0``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from sandboxes.spec import INTEGRATIONS, DataMode, SandboxSpec

from .fieldmanager import sandbox_annotations
from .labels import COMPONENT_DATABASE, COMPONENT_LABEL, COMPONENT_SEED, INSTANCE_LABEL, sandbox_labels
from .namespace import DATABASE_PORT
from .naming import ObjectNames

__all__ = ["DisabledIntegrations", "DisabledIntegrationsArgs", "egress_policies", "integrations_config"]


def integrations_config() -> dict[str, bool]:
    """One entry per known integration, all ``False`` (``integrations.json`` of the workload)."""
    return dict.fromkeys(INTEGRATIONS, False)


def egress_policies(spec: SandboxSpec) -> dict[str, dict[str, Any]]:
    """``{suffix: NetworkPolicy spec}`` of every egress allowance; pure so tests can read it directly."""
    policies: dict[str, dict[str, Any]] = {
        "allow-dns-egress": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                }
            ],
        },
        "allow-same-namespace-egress": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"podSelector": {}}]}],
        },
    }
    if spec.data in (DataMode.COPY, DataMode.MASKED_COPY) and spec.parent is not None:
        policies["allow-copy-egress"] = {
            "podSelector": {"matchLabels": {COMPONENT_LABEL: COMPONENT_SEED}},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": spec.parent}},
                            "podSelector": {
                                "matchLabels": {INSTANCE_LABEL: spec.parent, COMPONENT_LABEL: COMPONENT_DATABASE}
                            },
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": DATABASE_PORT}],
                }
            ],
        }
    return policies


@dataclass(frozen=True)
class DisabledIntegrationsArgs:
    spec: SandboxSpec
    namespace: pulumi.Input[str]


class DisabledIntegrations(pulumi.ComponentResource):
    """The egress lock-down of a sandbox plus its all-false integrations configuration."""

    config: dict[str, bool]

    def __init__(
        self, name: str, args: DisabledIntegrationsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandboxes:index:DisabledIntegrations", name, None, opts)
        spec = args.spec
        self.config = integrations_config()
        self.policies = [
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{suffix}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"{ObjectNames(spec.slug).slug}-{suffix}",
                    namespace=args.namespace,
                    labels=sandbox_labels(spec, "network"),
                    annotations=sandbox_annotations(spec.slug),
                ),
                spec=policy_spec,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for suffix, policy_spec in egress_policies(spec).items()
        ]
        self.register_outputs({"integrations": self.config})
