"""``ApiCredentials``: the key pair a sandbox's users call its API with.

Made by pulumi-random so the spec never carries a secret: the key id is a public
identifier (``sbx_`` + 20 lowercase letters and digits), the secret is a 48-character
``RandomPassword`` and stays a Pulumi secret end to end (state, outputs, the Secret).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from sandboxes.spec import SandboxSpec

from .fieldmanager import sandbox_annotations
from .labels import sandbox_labels
from .naming import ObjectNames

__all__ = ["KEY_ID_PREFIX", "ApiCredentials", "ApiCredentialsArgs"]

KEY_ID_PREFIX = "sbx_"


@dataclass(frozen=True)
class ApiCredentialsArgs:
    spec: SandboxSpec
    namespace: pulumi.Input[str]


class ApiCredentials(pulumi.ComponentResource):
    key_id: pulumi.Output[str]
    secret: pulumi.Output[str]
    secret_name: pulumi.Output[str]

    def __init__(self, name: str, args: ApiCredentialsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sandboxes:index:ApiCredentials", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        key = random.RandomString(
            f"{name}-key-id", length=20, special=False, upper=False, lower=True, numeric=True, opts=child
        )
        password = random.RandomPassword(f"{name}-secret", length=48, special=False, opts=child)
        self.key_id = pulumi.Output.concat(KEY_ID_PREFIX, key.result)
        self.secret = pulumi.Output.secret(password.result)
        k8s_secret = k8s.core.v1.Secret(
            f"{name}-k8s-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=ObjectNames(args.spec.slug).api_credentials,
                namespace=args.namespace,
                labels=sandbox_labels(args.spec, "credentials"),
                annotations=sandbox_annotations(args.spec.slug),
            ),
            type="Opaque",
            string_data={"key_id": self.key_id, "secret": self.secret},
            opts=child,
        )
        self.secret_name = k8s_secret.metadata.apply(lambda m: m.name)
        self.register_outputs({"key_id": self.key_id, "secret": self.secret, "secret_name": self.secret_name})
