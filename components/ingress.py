"""``SandboxIngress``: the sandbox answers on ``<slug>.<base domain>``.

The host is the only public name of a sandbox; the ingress class and base domain come
from the spec when it sets them, else from the project defaults. With ``platform.tls``
the Ingress serves ``<slug>-tls``: issued by cert-manager when ``sandboxes:tlsIssuer``
names an issuer, else a self-signed certificate the stack makes itself.
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
from .tls import CERT_MANAGER_ISSUER_ANNOTATION, IngressCertificate, IngressCertificateArgs

__all__ = ["SandboxIngress", "SandboxIngressArgs", "host", "ingress_annotations", "ingress_spec", "url"]


def host(spec: SandboxSpec, defaults: ProjectDefaults) -> str:
    return f"{spec.slug}.{spec.platform.base_domain or defaults.base_domain}"


def url(spec: SandboxSpec, defaults: ProjectDefaults) -> str:
    scheme = "https" if spec.platform.tls else "http"
    return f"{scheme}://{host(spec, defaults)}"


def ingress_annotations(spec: SandboxSpec, defaults: ProjectDefaults) -> dict[str, str]:
    """The stack's field manager, plus cert-manager's issuer when TLS comes from one (``sandboxes:tlsIssuer``)."""
    annotations = sandbox_annotations(spec.slug)
    if spec.platform.tls and defaults.tls_issuer:
        annotations[CERT_MANAGER_ISSUER_ANNOTATION] = defaults.tls_issuer
    return annotations


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
    """The Ingress on the sandbox's host and, with TLS on, the certificate it serves (components/tls.py)."""

    url: str

    def __init__(self, name: str, args: SandboxIngressArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sandboxes:index:SandboxIngress", name, None, opts)
        spec, defaults = args.spec, args.defaults
        names = ObjectNames(spec.slug)
        labels = sandbox_labels(spec, "ingress")
        self.url = url(spec, defaults)
        annotations = ingress_annotations(spec, defaults)
        depends_on: list[pulumi.Resource] = []
        if spec.platform.tls and not defaults.tls_issuer:
            certificate = IngressCertificate(
                f"{name}-tls",
                IngressCertificateArgs(spec=spec, host=host(spec, defaults), secret_name=names.tls,
                                       namespace=args.namespace, labels=labels,
                                       annotations=sandbox_annotations(spec.slug)),
                pulumi.ResourceOptions(parent=self),
            )
            depends_on.append(certificate.secret)  # the controller finds the certificate as soon as the route
        self.ingress = k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=names.ingress, namespace=args.namespace, labels=labels, annotations=annotations
            ),
            spec=ingress_spec(spec, defaults),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )
        self.register_outputs({"url": self.url})
