"""``Database``: the sandbox's PostgreSQL, from our own chart (``charts/postgresql``).

The password is a ``RandomPassword`` (letters and digits only, so it needs no escaping
in the URL). The Secret ``<slug>-db`` holds ``password`` (read by the chart's pod) and
``url`` (read by the workload and the seed job, and exported as the stack's secret
``database_url`` so a child sandbox with ``data: copy`` can read this one).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from sandboxes.spec import SandboxSpec

from .defaults import ProjectDefaults
from .fieldmanager import sandbox_annotations
from .labels import COMPONENT_DATABASE, sandbox_labels, selector_labels
from .namespace import DATABASE_PORT
from .naming import ObjectNames
from .sizes import preset
from .volumes import LOCAL_STORAGE_CLASS, LocalVolume, LocalVolumeArgs

__all__ = ["CHART_PATH", "DB_NAME", "DB_USER", "Database", "DatabaseArgs", "chart_values"]

CHART_PATH = Path(__file__).resolve().parent.parent / "charts" / "postgresql"
DB_USER = "sandbox"
DB_NAME = "sandbox"
POSTGRES_UID = 999


def chart_values(spec: SandboxSpec, defaults: ProjectDefaults, secret_name: pulumi.Input[str]) -> dict[str, Any]:
    """The values given to ``charts/postgresql``; pure so a test can check each is wired to a template."""
    size = preset(spec.platform.size)
    values: dict[str, Any] = {
        "fullname": ObjectNames(spec.slug).db,
        "image": defaults.postgres_image,
        "imagePullPolicy": "IfNotPresent",
        "existingSecret": secret_name,
        "passwordKey": "password",
        "username": DB_USER,
        "database": DB_NAME,
        "port": DATABASE_PORT,
        "runAsUser": POSTGRES_UID,
        "storage": {"size": size.db_volume},
        "resources": size.container.as_k8s(),
        "nodeSelector": dict(defaults.node_selector),
        "labels": sandbox_labels(spec, COMPONENT_DATABASE),
        "annotations": sandbox_annotations(spec.slug),
        "selectorLabels": selector_labels(spec.slug, COMPONENT_DATABASE),
    }
    if defaults.local_volume_dir:
        # The pre-bound local volume (components/volumes.py), not the cluster's default class.
        values["storage"]["storageClassName"] = LOCAL_STORAGE_CLASS
    return values


def database_url(slug: str, password: str) -> str:
    names = ObjectNames(slug)
    return f"postgresql://{DB_USER}:{password}@{names.db_host()}:{DATABASE_PORT}/{DB_NAME}"


@dataclass(frozen=True)
class DatabaseArgs:
    spec: SandboxSpec
    defaults: ProjectDefaults
    namespace: pulumi.Input[str]


class Database(pulumi.ComponentResource):
    """Password, credentials Secret and the PostgreSQL chart of one sandbox."""

    secret_name: pulumi.Output[str]
    url: pulumi.Output[str]
    chart: k8s.helm.v4.Chart

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sandboxes:index:Database", name, None, opts)
        spec = args.spec
        names = ObjectNames(spec.slug)
        child = pulumi.ResourceOptions(parent=self)

        password = random.RandomPassword(f"{name}-password", length=32, special=False, opts=child)
        self.url = pulumi.Output.secret(password.result.apply(lambda pw: database_url(spec.slug, pw)))
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=names.db, namespace=args.namespace, labels=sandbox_labels(spec, COMPONENT_DATABASE),
                annotations=sandbox_annotations(spec.slug),
            ),
            type="Opaque",
            string_data={"password": pulumi.Output.secret(password.result), "url": self.url},
            opts=child,
        )
        self.secret_name = secret.metadata.apply(lambda m: m.name)
        chart_deps: list[pulumi.Resource] = [secret]
        if args.defaults.local_volume_dir:
            volume = LocalVolume(
                f"{name}-volume",
                LocalVolumeArgs(
                    name=f"{names.db}-data", directory=args.defaults.local_volume_dir,
                    size=preset(spec.platform.size).db_volume, uid=POSTGRES_UID,
                    node_selector=dict(args.defaults.node_selector), namespace=names.namespace,
                    claim=f"data-{names.db}-0", labels=sandbox_labels(spec, COMPONENT_DATABASE),
                    annotations=sandbox_annotations(spec.slug),
                ),
                child,
            )
            chart_deps.append(volume)
        self.chart = k8s.helm.v4.Chart(
            f"{name}-chart",
            chart=str(CHART_PATH),
            name=names.db,
            namespace=args.namespace,
            values=chart_values(spec, args.defaults, self.secret_name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=chart_deps),
        )
        self.register_outputs({"secret_name": self.secret_name, "url": self.url})

    def ready(self) -> pulumi.Input[list[pulumi.Resource]]:
        """What to ``depends_on`` to start after the database is up: the chart and each object it rendered.

        ``depends_on`` the remote Chart component alone is not enough in every SDK version,
        so its ``resources`` output is added (the documented way to wait for a v4 chart).
        """
        chart = self.chart
        return chart.resources.apply(lambda rs: [chart, *(rs or [])])
