"""``DeviceSimulator``: simulated vehicles, batteries and inverters for the sandbox.

Only made when ``spec.devices_enabled`` (by default: preconfigured data). It is a test
double inside the sandbox, so it is reachable from the workload pods and nothing else:
the namespace's same-namespace rule leaves devices pods out, and the rule here lets in
only ``app.kubernetes.io/component: web`` of this sandbox.

``SIMULATOR_PRESEED`` registers, at start-up, the devices that preconfigured seed data links to
drivers and locations (same per-size counts as the seed program, see ``sizes.simulator_preseed``),
so the web app finds every linked device without a POST to the simulator first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from sandboxes.spec import SandboxSpec

from .defaults import ProjectDefaults
from .fieldmanager import sandbox_annotations
from .labels import COMPONENT_DEVICES, COMPONENT_WEB, sandbox_labels, selector_labels
from .naming import ObjectNames
from .podsecurity import container_security_context, pod_security_context
from .sizes import preset, simulator_preseed

__all__ = ["DEVICES_COMMAND", "DEVICES_PORT", "DeviceSimulator", "DeviceSimulatorArgs", "devices_url"]

DEVICES_PORT = 8080
DEVICES_COMMAND = ["python3", "-m", "device_simulator", "serve", "--host", "0.0.0.0", "--port", str(DEVICES_PORT)]


def devices_url(slug: str) -> str:
    return f"http://{ObjectNames(slug).devices}:{DEVICES_PORT}"


@dataclass(frozen=True)
class DeviceSimulatorArgs:
    spec: SandboxSpec
    defaults: ProjectDefaults
    namespace: pulumi.Input[str]


class DeviceSimulator(pulumi.ComponentResource):
    url: str

    def __init__(self, name: str, args: DeviceSimulatorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sandboxes:index:DeviceSimulator", name, None, opts)
        spec = args.spec
        names = ObjectNames(spec.slug)
        labels = sandbox_labels(spec, COMPONENT_DEVICES)
        annotations = sandbox_annotations(spec.slug)
        selector = selector_labels(spec.slug, COMPONENT_DEVICES)
        child = pulumi.ResourceOptions(parent=self)
        self.url = devices_url(spec.slug)

        pod_spec: dict[str, Any] = {
            "automountServiceAccountToken": False,
            "securityContext": pod_security_context(),
            "containers": [
                {
                    "name": "devices",
                    "image": args.defaults.devices_image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": list(DEVICES_COMMAND),
                    "env": [
                        {"name": "SANDBOX_SLUG", "value": spec.slug},
                        {"name": "SIMULATOR_PRESEED", "value": simulator_preseed(spec.platform.size, spec.modules)},
                    ],
                    "ports": [{"name": "http", "containerPort": DEVICES_PORT, "protocol": "TCP"}],
                    "securityContext": container_security_context(),
                    "resources": preset(spec.platform.size).container.as_k8s(),
                    "readinessProbe": {"httpGet": {"path": "/healthz", "port": DEVICES_PORT}, "periodSeconds": 5},
                }
            ],
        }
        if args.defaults.node_selector:
            pod_spec["nodeSelector"] = dict(args.defaults.node_selector)
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=names.devices, namespace=args.namespace, labels=labels, annotations=annotations
            ),
            spec={
                "replicas": 1,
                "selector": {"matchLabels": selector},
                "template": {"metadata": {"labels": labels}, "spec": pod_spec},
            },
            opts=child,
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=names.devices, namespace=args.namespace, labels=labels, annotations=annotations
            ),
            spec={
                "type": "ClusterIP",
                "selector": selector,
                "ports": [{"name": "http", "port": DEVICES_PORT, "targetPort": DEVICES_PORT, "protocol": "TCP"}],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.deployment]),
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-from-web",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{names.devices}-from-web", namespace=args.namespace, labels=labels, annotations=annotations
            ),
            spec={
                "podSelector": {"matchLabels": selector},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [{"podSelector": {"matchLabels": selector_labels(spec.slug, COMPONENT_WEB)}}],
                        "ports": [{"protocol": "TCP", "port": DEVICES_PORT}],
                    }
                ],
            },
            opts=child,
        )
        self.register_outputs({"url": self.url})
