"""``Workload``: the platform itself, as the sandbox's users see it.

A Deployment ``<slug>-web`` with a Service, configured by the ConfigMap
``<slug>-settings``: ``settings.json`` (the spec's settings), ``sandbox.json`` (who this
sandbox is) and ``integrations.json`` (every integration explicitly off). The pod
template carries a hash of that ConfigMap, so changing a setting updates the ConfigMap
in place (the provider is configured with mutable ConfigMaps, see ``Sandbox``) and rolls
the Deployment — and nothing else.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from sandboxes.spec import SandboxSpec

from .defaults import ProjectDefaults
from .fieldmanager import sandbox_annotations
from .integrations import integrations_config
from .labels import COMPONENT_WEB, PROSPECT, modules_label_value, sandbox_labels, selector_labels
from .namespace import WEB_PORT
from .naming import ObjectNames
from .podsecurity import container_security_context, pod_security_context
from .sizes import preset

__all__ = [
    "SETTINGS_HASH_ANNOTATION",
    "Workload",
    "WorkloadArgs",
    "settings_data",
    "settings_hash",
    "workload_image",
]

SETTINGS_HASH_ANNOTATION = "sandboxes.io/settings-hash"


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def workload_image(spec: SandboxSpec, defaults: ProjectDefaults) -> str:
    """``platform.image`` (or the project default), tagged with ``platform.version`` when given."""
    image = spec.platform.image or defaults.workload_image
    if spec.platform.version:
        last = image.rsplit("/", 1)[-1]
        if "@" in image:
            image = image.split("@", 1)[0]
        elif ":" in last:
            image = image[: image.rfind(":")]
        image = f"{image}:{spec.platform.version}"
    return image


def settings_data(spec: SandboxSpec, url: str) -> dict[str, str]:
    """The ConfigMap's ``data``: deterministic JSON, so equal specs give byte-equal objects (no spurious diffs)."""
    sandbox = {
        "slug": spec.slug,
        "name": spec.name,
        "description": spec.description,
        "modules": sorted(str(m) for m in spec.modules),
        "url": url,
        "provider": spec.provider_id or PROSPECT,
    }
    return {
        "settings.json": _json(spec.settings.model_dump(mode="json")),
        "sandbox.json": _json(sandbox),
        "integrations.json": _json(integrations_config()),
    }


def settings_hash(data: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class WorkloadArgs:
    spec: SandboxSpec
    defaults: ProjectDefaults
    namespace: pulumi.Input[str]
    url: str
    database_secret_name: pulumi.Input[str]
    devices_url: str | None = None


class Workload(pulumi.ComponentResource):
    service_name: pulumi.Output[str]

    def __init__(self, name: str, args: WorkloadArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sandboxes:index:Workload", name, None, opts)
        spec = args.spec
        names = ObjectNames(spec.slug)
        labels = sandbox_labels(spec, COMPONENT_WEB)
        annotations = sandbox_annotations(spec.slug)
        selector = selector_labels(spec.slug, COMPONENT_WEB)
        child = pulumi.ResourceOptions(parent=self)
        data = settings_data(spec, args.url)

        config_map = k8s.core.v1.ConfigMap(
            f"{name}-settings",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=names.settings, namespace=args.namespace, labels=labels, annotations=annotations
            ),
            data=data,
            opts=child,
        )
        env: list[dict[str, Any]] = [
            {"name": "SANDBOX_MODE", "value": "true"},
            {"name": "SANDBOX_SLUG", "value": spec.slug},
            {"name": "SANDBOX_MODULES", "value": modules_label_value(spec).replace(".", ",")},
            {"name": "SANDBOX_SETTINGS_DIR", "value": "/etc/sandbox"},
            {
                "name": "DATABASE_URL",
                "valueFrom": {"secretKeyRef": {"name": args.database_secret_name, "key": "url"}},
            },
        ]
        if args.devices_url:
            env.append({"name": "DEVICE_SIMULATOR_URL", "value": args.devices_url})
        pod_spec: dict[str, Any] = {
            "automountServiceAccountToken": False,
            "securityContext": pod_security_context(),
            "containers": [
                {
                    "name": "web",
                    "image": workload_image(spec, args.defaults),
                    "imagePullPolicy": "IfNotPresent",
                    "ports": [{"name": "http", "containerPort": WEB_PORT, "protocol": "TCP"}],
                    "env": env,
                    "securityContext": container_security_context(),
                    "resources": preset(spec.platform.size).container.as_k8s(),
                    "readinessProbe": {
                        "httpGet": {"path": "/healthz", "port": WEB_PORT},
                        "initialDelaySeconds": 2,
                        "periodSeconds": 5,
                    },
                    "volumeMounts": [{"name": "settings", "mountPath": "/etc/sandbox", "readOnly": True}],
                }
            ],
            "volumes": [
                {"name": "settings", "configMap": {"name": config_map.metadata.apply(lambda m: m.name)}}
            ],
        }
        if args.defaults.node_selector:
            pod_spec["nodeSelector"] = dict(args.defaults.node_selector)
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=names.web, namespace=args.namespace, labels=labels, annotations=annotations
            ),
            spec={
                "replicas": 1,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": labels, "annotations": {SETTINGS_HASH_ANNOTATION: settings_hash(data)}},
                    "spec": pod_spec,
                },
            },
            opts=child,
        )
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=names.web, namespace=args.namespace, labels=labels, annotations=annotations
            ),
            spec={
                "type": "ClusterIP",
                "selector": selector,
                "ports": [{"name": "http", "port": WEB_PORT, "targetPort": WEB_PORT, "protocol": "TCP"}],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.deployment]),
        )
        self.service_name = service.metadata.apply(lambda m: m.name)
        self.register_outputs({"service_name": self.service_name})
