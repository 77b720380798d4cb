"""Run the sandbox components under Pulumi mocks and record what they register.

Why a recording mock rather than only ``Output.apply`` assertions: most checks here are
about the *inputs* each Kubernetes object is registered with (labels, names, rules).
Those are recorded by the mock monitor as the program registers them; ``render`` returns
only after ``pulumi.runtime.test`` has waited for every registration, so nothing is
checked early and an empty recording fails loudly (``Rendered.one`` raises).
Secret-ness is kept: an input that arrived as a Pulumi secret is listed in ``secret_inputs``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import rpc

from components import ProjectDefaults, Sandbox, SandboxArgs
from sandboxes.spec import SandboxSpec, parse_spec

PARENT_DB_URL = "postgresql://sandbox:parentpw@parent-db.parent.svc.cluster.local:5432/sandbox"


def _unwrap(value: Any, path: str, secrets: set[str]) -> Any:
    if rpc.is_rpc_secret(value):
        secrets.add(path)
        return _unwrap(rpc.unwrap_rpc_secret(value), path, secrets)
    if isinstance(value, dict):
        return {k: _unwrap(v, f"{path}.{k}" if path else k, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v, f"{path}[{i}]", secrets) for i, v in enumerate(value)]
    return value


@dataclass
class Registered:
    type: str
    name: str
    inputs: dict[str, Any]
    secret_inputs: set[str]

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.inputs.get("metadata") or {})

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.metadata.get("labels") or {})

    @property
    def k8s_name(self) -> str | None:
        return self.metadata.get("name")


class RecordingMocks(pulumi.runtime.Mocks):
    """Echoes inputs as state, gives random resources a fixed result, answers the parent's StackReference."""

    def __init__(self, parent_outputs: dict[str, Any] | None = None) -> None:
        self.registered: list[Registered] = []
        self.parent_outputs = parent_outputs or {"database_url": PARENT_DB_URL}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        secrets: set[str] = set()
        inputs = _unwrap(dict(args.inputs), "", secrets)
        self.registered.append(Registered(args.typ, args.name, inputs, secrets))
        state = dict(inputs)
        if args.typ.startswith("random:index/random"):
            state["result"] = "r" * int(inputs.get("length", 16))
        elif args.typ == "pulumi:pulumi:StackReference":
            state["outputs"] = dict(self.parent_outputs)
            state["secretOutputNames"] = ["database_url"]
        elif args.typ == "pulumi-python:dynamic:Resource" and "hosts" in inputs:  # components/tls.py
            state.update(cert_pem="-----BEGIN CERTIFICATE-----", key_pem="-----BEGIN PRIVATE KEY-----",
                         not_after="2099-01-01T00:00:00+00:00")
        elif args.typ == "kubernetes:helm.sh/v4:Chart":
            state["resources"] = []
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


@dataclass
class Rendered:
    mocks: RecordingMocks
    sandbox: Sandbox | None = None
    exports: dict[str, Any] = field(default_factory=dict)

    @property
    def resources(self) -> list[Registered]:
        return self.mocks.registered

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.type == typ]

    def named(self, typ: str, k8s_name: str) -> Registered:
        found = [r for r in self.of_type(typ) if r.k8s_name == k8s_name]
        assert len(found) == 1, f"expected one {typ} named {k8s_name}, found {[r.k8s_name for r in self.of_type(typ)]}"
        return found[0]

    def one(self, typ: str) -> Registered:
        found = self.of_type(typ)
        assert len(found) == 1, f"expected one {typ}, found {len(found)}"
        return found[0]

    def kubernetes_objects(self) -> list[Registered]:
        return [r for r in self.resources if r.type.startswith("kubernetes:") and r.type.count(":") == 2
                and not r.type.startswith("kubernetes:helm.sh")]


def base_spec(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "slug": "sandbox-abc123",
        "name": "Test sandbox",
        "provider_id": "acme",
        "modules": ["msp", "cpo"],
        "data": "blank",
    }
    spec.update(overrides)
    return spec


def render(
    spec: dict[str, Any] | SandboxSpec,
    defaults: ProjectDefaults | None = None,
    check: Callable[[Sandbox], Any] | None = None,
) -> Rendered:
    """Build one ``Sandbox`` under mocks; ``check`` may return an Output/awaitable asserted inside the run."""
    model = spec if isinstance(spec, SandboxSpec) else parse_spec(spec)
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="sandboxes", stack=model.slug, preview=False)
    rendered = Rendered(mocks)

    @pulumi.runtime.test
    def run() -> Any:
        rendered.sandbox = Sandbox(model.slug, SandboxArgs(spec=model, defaults=defaults or ProjectDefaults()))
        return check(rendered.sandbox) if check else None

    run()
    assert rendered.resources, "nothing was registered"
    return rendered


