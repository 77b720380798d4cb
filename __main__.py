"""The one Pulumi program: one stack per sandbox, the stack named after the sandbox's slug.

It reads the spec from ``sandbox:spec`` and the project defaults from ``sandboxes:*``,
refuses anything invalid before a single resource is registered, builds one ``Sandbox``
and exports what the engine driver, the API and child sandboxes read back. The same
program serves ``pulumi up -s <slug>`` by hand, the reconciler and the API.
"""

from __future__ import annotations

import pulumi

from components import MaskedCopyNotAllowed, ProjectDefaults, Sandbox, SandboxArgs, check_seed_policy
from sandboxes.spec import SandboxSpec, SpecError, parse_spec, spec_hash


def load_spec() -> SandboxSpec:
    """``sandbox:spec`` validated; a bad spec becomes a ``RunError`` naming each field to fix."""
    stack = pulumi.get_stack()
    raw = pulumi.Config("sandbox").require_object("spec")
    try:
        spec = parse_spec(raw, source=f"stack {stack} (sandbox:spec)")
    except SpecError as err:
        raise pulumi.RunError(str(err)) from None
    if spec.slug != stack:
        raise pulumi.RunError(
            f"stack {stack}: sandbox:spec is for slug {spec.slug!r}; each sandbox has its own stack named after its "
            "slug: select that stack or fix the slug"
        )
    return spec


def load_defaults() -> ProjectDefaults:
    try:
        return ProjectDefaults.from_config(pulumi.Config("sandboxes"))
    except ValueError as err:
        raise pulumi.RunError(str(err)) from None


def main() -> None:
    spec = load_spec()
    defaults = load_defaults()
    try:
        check_seed_policy(spec, defaults)
    except MaskedCopyNotAllowed as err:
        raise pulumi.RunError(str(err)) from None

    sandbox = Sandbox(spec.slug, SandboxArgs(spec=spec, defaults=defaults))

    pulumi.export("url", sandbox.url)
    pulumi.export("namespace", sandbox.namespace)
    pulumi.export("database_secret_name", sandbox.database_secret_name)
    pulumi.export("api_key_id", sandbox.api_key_id)
    pulumi.export("api_secret", pulumi.Output.secret(sandbox.api_secret))
    pulumi.export("database_url", pulumi.Output.secret(sandbox.database_url))
    pulumi.export("seed_job_name", sandbox.seed_job_name)
    pulumi.export("spec_hash", spec_hash(spec))
    pulumi.export("slug", spec.slug)
    pulumi.export("parent", spec.parent)
    pulumi.export("owner", pulumi.Config("sandbox").get("owner"))


main()
