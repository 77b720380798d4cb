"""``SeedJob``: fills the sandbox's database once, after the database is ready.

The container's command line is the contract with the seed program (``seed-jobs/``,
which ships in its own image and is built elsewhere):

    python3 -m sandbox_seed run --mode {blank,preconfigured,copy,masked-copy}
        --modules msp,cpo --size {small,medium,large} --random-seed N [--reset] [--reset-generation N]

with ``DATABASE_URL``, ``PARENT_DATABASE_URL`` (copy), ``SANDBOX_SLUG``,
``SEED_MASKED_COPY_ALLOWED`` and ``SEED_CONNECT_TIMEOUT`` in the environment.
``seed_container`` is a pure function producing exactly what the Job runs, so a contract
test can hold it against the real program without a cluster.

kwok never runs containers: a Complete Job on the embedded cluster proves ordering and
awaiting, not the command; the contract test proves the command.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from sandboxes.spec import DataMode, SandboxSpec

from .defaults import ProjectDefaults
from .fieldmanager import sandbox_annotations
from .labels import COMPONENT_SEED, sandbox_labels
from .naming import ObjectNames
from .podsecurity import container_security_context, pod_security_context
from .sizes import preset

__all__ = [
    "SEED_COMMAND",
    "SEED_CONNECT_TIMEOUT",
    "MaskedCopyNotAllowed",
    "SeedContainerArgs",
    "SeedJob",
    "SeedJobArgs",
    "check_seed_policy",
    "copies_parent",
    "random_seed",
    "seed_container",
]

SEED_COMMAND = ["python3", "-m", "sandbox_seed", "run"]
SEED_CONNECT_TIMEOUT = "120"
PARENT_STACK_PREFIX = "organization/sandboxes/"


class MaskedCopyNotAllowed(ValueError):
    """``data: masked-copy`` refused: the policy ``sandboxes:allowMaskedCopy`` is off, or there is no parent to copy."""


COPY_MODES = (DataMode.COPY, DataMode.MASKED_COPY)


def copies_parent(spec: SandboxSpec) -> bool:
    """Both copy modes read the parent sandbox's database (masked-copy masks what it reads)."""
    return spec.data in COPY_MODES and spec.parent is not None


def check_seed_policy(spec: SandboxSpec, defaults: ProjectDefaults) -> None:
    """Refuse what the project's policy forbids; called by the program before any resource exists."""
    if spec.data == DataMode.MASKED_COPY and not defaults.allow_masked_copy:
        raise MaskedCopyNotAllowed(
            f"{spec.slug}: data 'masked-copy' is switched off for this project (sandboxes:allowMaskedCopy is false): "
            "choose 'blank', 'preconfigured' or 'copy', or ask an administrator to enable masked copies"
        )
    if spec.data == DataMode.MASKED_COPY and spec.parent is None:
        # The spec model only demands a parent for 'copy'; the seed program needs one for both.
        raise MaskedCopyNotAllowed(
            f"{spec.slug}: data 'masked-copy' copies and masks the parent sandbox: set 'parent' to its slug"
        )


def random_seed(slug: str) -> int:
    """A seed for the generator derived from the slug alone: re-running a seed gives the same data."""
    return int.from_bytes(hashlib.sha256(slug.encode()).digest()[:4], "big") % (2**31)


@dataclass(frozen=True)
class SeedContainerArgs:
    """Plain values only: what the seed container needs, without Pulumi types."""

    slug: str
    mode: str
    modules: tuple[str, ...]
    size: str
    masked_copy_allowed: bool
    database_secret: str
    parent_database_secret: str | None = None
    reset: bool = False
    reset_generation: int = 0

    @classmethod
    def from_spec(cls, spec: SandboxSpec, defaults: ProjectDefaults) -> SeedContainerArgs:
        names = ObjectNames(spec.slug)
        return cls(
            slug=spec.slug,
            mode=str(spec.data),
            modules=tuple(sorted(str(m) for m in spec.modules)),
            size=str(spec.platform.size),
            masked_copy_allowed=defaults.allow_masked_copy,
            database_secret=names.db,
            parent_database_secret=names.parent_db if copies_parent(spec) else None,
            reset_generation=spec.data_generation,
        )


def seed_container(args: SeedContainerArgs) -> dict[str, Any]:
    """``command``, ``args`` and ``env`` (Kubernetes EnvVar dicts) of the seed container."""
    argv = [
        "--mode", args.mode,
        "--modules", ",".join(sorted(args.modules)),
        "--size", args.size,
        "--random-seed", str(random_seed(args.slug)),
    ]
    if args.reset:
        argv.append("--reset")
    if args.reset_generation:
        # A new value changes the Job, so the engine replaces it, and the program resets exactly once.
        argv += ["--reset-generation", str(args.reset_generation)]
    env: list[dict[str, Any]] = [
        {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": args.database_secret, "key": "url"}}},
    ]
    if args.parent_database_secret is not None:
        env.append(
            {
                "name": "PARENT_DATABASE_URL",
                "valueFrom": {"secretKeyRef": {"name": args.parent_database_secret, "key": "url"}},
            }
        )
    env += [
        {"name": "SANDBOX_SLUG", "value": args.slug},
        {"name": "SEED_MASKED_COPY_ALLOWED", "value": "true" if args.masked_copy_allowed else "false"},
        {"name": "SEED_CONNECT_TIMEOUT", "value": SEED_CONNECT_TIMEOUT},
    ]
    return {"command": list(SEED_COMMAND), "args": argv, "env": env}


@dataclass(frozen=True)
class SeedJobArgs:
    spec: SandboxSpec
    defaults: ProjectDefaults
    namespace: pulumi.Input[str]
    database_secret_name: pulumi.Input[str]
    database_ready: pulumi.Input[list[pulumi.Resource]] | None = None
    # The parent's stack, read once by the Sandbox (None: read it here when copying).
    parent_stack: pulumi.StackReference | None = None


class SeedJob(pulumi.ComponentResource):
    job_name: pulumi.Output[str]

    def __init__(self, name: str, args: SeedJobArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sandboxes:index:SeedJob", name, None, opts)
        spec = args.spec
        names = ObjectNames(spec.slug)
        labels = sandbox_labels(spec, COMPONENT_SEED)
        child = pulumi.ResourceOptions(parent=self)
        container_args = SeedContainerArgs.from_spec(spec, args.defaults)
        deps: list[pulumi.Resource] = []

        if container_args.parent_database_secret is not None and spec.parent is not None:
            # The parent's URL is a secret output of the parent's stack; it is copied into this
            # namespace so the seed pod reads it like its own, never through config or args.
            parent_stack = args.parent_stack or pulumi.StackReference(
                f"{PARENT_STACK_PREFIX}{spec.parent}", opts=child
            )
            parent_url = pulumi.Output.secret(parent_stack.require_output("database_url"))
            parent_secret = k8s.core.v1.Secret(
                f"{name}-parent-db",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=names.parent_db, namespace=args.namespace, labels=labels,
                    annotations=sandbox_annotations(spec.slug),
                ),
                type="Opaque",
                string_data={"url": parent_url},
                opts=child,
            )
            deps.append(parent_secret)

        container = seed_container(container_args)
        container["env"][0]["valueFrom"]["secretKeyRef"]["name"] = args.database_secret_name
        pod_spec: dict[str, Any] = {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "securityContext": pod_security_context(),
            "containers": [
                {
                    "name": "seed",
                    "image": args.defaults.seed_image,
                    "imagePullPolicy": "IfNotPresent",
                    **container,
                    "securityContext": container_security_context(),
                    "resources": preset(spec.platform.size).container.as_k8s(),
                }
            ],
        }
        if args.defaults.node_selector:
            pod_spec["nodeSelector"] = dict(args.defaults.node_selector)

        depends_on: pulumi.Input[list[pulumi.Resource]]
        if args.database_ready is not None:
            depends_on = pulumi.Output.from_input(args.database_ready).apply(lambda rs: [*rs, *deps])
        else:
            depends_on = deps
        self.job = k8s.batch.v1.Job(
            f"{name}-job",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=names.seed, namespace=args.namespace, labels=labels, annotations=sandbox_annotations(spec.slug)
            ),
            spec={
                "backoffLimit": 2,
                "activeDeadlineSeconds": 1800,
                "template": {"metadata": {"labels": labels}, "spec": pod_spec},
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )
        self.job_name = self.job.metadata.apply(lambda m: m.name)
        self.register_outputs({"job_name": self.job_name})
