"""Labels every object of a sandbox carries, in one place.

Why one place: the labels are an interface. Tests and operators find a sandbox's
objects (and its leftovers after a destroy) with ``sandboxes.io/slug``; reporting skips
anything with ``sandboxes.io/reporting: excluded``; NetworkPolicies select pods by
``app.kubernetes.io/component``. If each component spelled them itself they would drift.
"""

from __future__ import annotations

from sandboxes.spec import SandboxSpec

__all__ = [
    "COMPONENT_DATABASE",
    "COMPONENT_DEVICES",
    "COMPONENT_LABEL",
    "COMPONENT_SEED",
    "COMPONENT_WEB",
    "INSTANCE_LABEL",
    "MODULES_LABEL",
    "PARENT_LABEL",
    "PROSPECT",
    "PROVIDER_LABEL",
    "REPORTING_LABEL",
    "SLUG_LABEL",
    "modules_label_value",
    "sandbox_labels",
    "selector_labels",
]

SLUG_LABEL = "sandboxes.io/slug"
PARENT_LABEL = "sandboxes.io/parent"
PROVIDER_LABEL = "sandboxes.io/provider"
MODULES_LABEL = "sandboxes.io/modules"
REPORTING_LABEL = "sandboxes.io/reporting"
COMPONENT_LABEL = "app.kubernetes.io/component"
INSTANCE_LABEL = "app.kubernetes.io/instance"

# Values of app.kubernetes.io/component that NetworkPolicies select on.
COMPONENT_WEB = "web"
COMPONENT_DATABASE = "database"
COMPONENT_SEED = "seed"
COMPONENT_DEVICES = "devices"

PROSPECT = "prospect"


def modules_label_value(spec: SandboxSpec) -> str:
    """``cpo.msp``: sorted module names joined by '.', which is valid in a label value (',' is not)."""
    return ".".join(sorted(str(m) for m in spec.modules))


def sandbox_labels(spec: SandboxSpec, component: str) -> dict[str, str]:
    """The full label set of one object of the sandbox ``spec`` playing the role ``component``."""
    labels = {
        "app.kubernetes.io/name": "sandbox",
        INSTANCE_LABEL: spec.slug,
        COMPONENT_LABEL: component,
        "app.kubernetes.io/part-of": "sandboxes",
        "app.kubernetes.io/managed-by": "pulumi",
        SLUG_LABEL: spec.slug,
        PROVIDER_LABEL: spec.provider_id or PROSPECT,
        MODULES_LABEL: modules_label_value(spec),
        REPORTING_LABEL: "excluded",
    }
    if spec.parent is not None:
        labels[PARENT_LABEL] = spec.parent
    return labels


def selector_labels(slug: str, component: str) -> dict[str, str]:
    """The immutable subset used in selectors: never include anything a spec change could alter."""
    return {INSTANCE_LABEL: slug, COMPONENT_LABEL: component}
