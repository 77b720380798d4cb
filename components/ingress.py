"""``SandboxIngress``: the sandbox answers on ``<slug>.<base domain>``.

The host is the only public name of a sandbox; the ingress class and base domain come
from the spec when it sets them, else from the project defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from sandboxes.spec import SandboxSpec

from .defaults import ProjectDefaults
from .fieldmanager import sandbox_annotations
from .labels import sandbox_labels
from .namespace import WEB_PORT
from .naming import ObjectNames

__all__ = ["SandboxIngress", "SandboxIngressArgs", "host", "ingress_spec", "url"]


def host(spec: SandboxSpec, defaults: ProjectDefaults) -> str:
    return f"{spec.slug}.{spec.platform.base_domain or defaults.base_domain}"


def url(spec: SandboxSpec, defaults: ProjectDefaults) -> str:
    scheme = "https" if spec.platform.tls else "http"
    return f"{scheme}://{host(spec, defaults)}"


def ingress_spec(spec: SandboxSpec, defaults: ProjectDefaults) -> dict[str, Any]:
    names = ObjectNames(spec.slug)
    body: dict[str, Any] = {
        "ingressClassName": spec.platform.ingress_class or defaults.ingress_class,
        "rules": [
            {
                "host": host(spec, defaults),
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": names.web, "port": {"number": WEB_PORT}}},
                        }
                    ]
                },
            }
        ],
    }
    if spec.platform.tls:
        body["tls"] = [{"hosts": [host(spec, defaults)], "secretName": names.tls}]
    return body


@dataclass(frozen=True)
class SandboxIngressArgs:
    spec: SandboxSpec
    defaults: ProjectDefaults
    namespace: pulumi.Input[str]


class SandboxIngress(pulumi.ComponentResource):
    url: str

    def __init__(self, name: str, args: SandboxIngressArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sandboxes:index:SandboxIngress", name, None, opts)
        self.url = url(args.spec, args.defaults)
        self.ingress = k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=ObjectNames(args.spec.slug).ingress,
                namespace=args.namespace,
                labels=sandbox_labels(args.spec, "ingress"),
                annotations=sandbox_annotations(args.spec.slug),
            ),
            spec=ingress_spec(args.spec, args.defaults),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"url": self.url})
