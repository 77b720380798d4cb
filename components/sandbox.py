"""``Sandbox``: one whole sandbox, composed of one component per concern.

The program builds exactly one of these per stack. It owns the Kubernetes provider
its children use, configured with mutable ConfigMaps: a settings change then updates
``<slug>-settings`` in place and rolls the Deployment, instead of replacing the
ConfigMap (the provider's default) under a fixed name.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from sandboxes.spec import SandboxSpec

from .credentials import ApiCredentials, ApiCredentialsArgs
from .database import Database, DatabaseArgs
from .defaults import ProjectDefaults
from .devices import DeviceSimulator, DeviceSimulatorArgs
from .ingress import SandboxIngress, SandboxIngressArgs
from .integrations import DisabledIntegrations, DisabledIntegrationsArgs
from .namespace import SandboxNamespace, SandboxNamespaceArgs
from .seed_job import PARENT_STACK_PREFIX, SeedJob, SeedJobArgs, check_seed_policy
from .workload import Workload, WorkloadArgs

__all__ = ["Sandbox", "SandboxArgs"]


@dataclass(frozen=True)
class SandboxArgs:
    spec: SandboxSpec
    defaults: ProjectDefaults


class Sandbox(pulumi.ComponentResource):
    """Namespace, database, workload, ingress, seed job, devices (optional), integrations off, API credentials."""

    url: str
    namespace: pulumi.Output[str]
    database_secret_name: pulumi.Output[str]
    database_url: pulumi.Output[str]
    api_key_id: pulumi.Output[str]
    api_secret: pulumi.Output[str]
    seed_job_name: pulumi.Output[str]

    def __init__(self, name: str, args: SandboxArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Policy first: a refused spec must not leave even the component behind.
        check_seed_policy(args.spec, args.defaults)
        super().__init__("sandboxes:index:Sandbox", name, None, opts)
        spec, defaults = args.spec, args.defaults

        # A parent that does not exist must stop the sandbox before anything reaches the cluster:
        # every Kubernetes object goes through this provider, and the provider waits for the
        # parent's stack to be read.
        parent_stack = (
            pulumi.StackReference(f"{PARENT_STACK_PREFIX}{spec.parent}", opts=pulumi.ResourceOptions(parent=self))
            if spec.parent is not None
            else None
        )
        provider = k8s.Provider(
            f"{name}-kubernetes",
            enable_config_map_mutable=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[parent_stack] if parent_stack else None),
        )
        child = pulumi.ResourceOptions(parent=self, providers={"kubernetes": provider})

        ns = SandboxNamespace(f"{name}-namespace", SandboxNamespaceArgs(spec, defaults), child)
        self.namespace = ns.name
        DisabledIntegrations(f"{name}-integrations", DisabledIntegrationsArgs(spec, ns.name), child)
        credentials = ApiCredentials(f"{name}-credentials", ApiCredentialsArgs(spec, ns.name), child)
        database = Database(f"{name}-database", DatabaseArgs(spec, defaults, ns.name), child)

        devices_url: str | None = None
        if spec.devices_enabled:
            devices = DeviceSimulator(f"{name}-devices", DeviceSimulatorArgs(spec, defaults, ns.name), child)
            devices_url = devices.url

        ingress = SandboxIngress(f"{name}-ingress", SandboxIngressArgs(spec, defaults, ns.name), child)
        Workload(
            f"{name}-workload",
            WorkloadArgs(
                spec=spec,
                defaults=defaults,
                namespace=ns.name,
                url=ingress.url,
                database_secret_name=database.secret_name,
                devices_url=devices_url,
            ),
            child,
        )
        seed = SeedJob(
            f"{name}-seed",
            SeedJobArgs(
                spec=spec,
                defaults=defaults,
                namespace=ns.name,
                database_secret_name=database.secret_name,
                database_ready=database.ready(),
                parent_stack=parent_stack,
            ),
            child,
        )

        self.url = ingress.url
        self.database_secret_name = database.secret_name
        self.database_url = database.url
        self.api_key_id = credentials.key_id
        self.api_secret = credentials.secret
        self.seed_job_name = seed.job_name
        self.register_outputs(
            {
                "url": self.url,
                "namespace": self.namespace,
                "database_secret_name": self.database_secret_name,
                "database_url": self.database_url,
                "api_key_id": self.api_key_id,
                "api_secret": self.api_secret,
                "seed_job_name": self.seed_job_name,
            }
        )
