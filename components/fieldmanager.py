"""One stable Server-Side Apply field manager per sandbox stack.

Why: by default the Kubernetes provider gives every object a *random* field manager
name, drawn when the object is first created and then kept in the stack's state. If an
engine dies after the API server made an object but before the checkpoint recorded it
(a killed worker, an OOM, a power cut), the repair clears that pending create and the
next ``up`` creates the object again under a *new* random manager: every field whose
value changed meanwhile is then a field conflict, and the sandbox cannot be updated
until someone deletes objects by hand. With one manager name per stack the re-create is
an ordinary apply by the same owner, so recovery needs nothing but another ``up``.

The name is derived from the slug (each object belongs to exactly one sandbox), so two
sandboxes never share ownership of anything, and ``kubectl get --show-managed-fields``
says which sandbox's stack owns a field. Objects made by older versions keep working:
the provider hands the old random manager's fields over on their next update.

Every object's metadata carries :func:`sandbox_annotations` (the chart's objects get it
through the chart's ``annotations`` value); a mock test checks no object misses it and
an engine test checks the API server's ``managedFields``.
"""

from __future__ import annotations

__all__ = ["FIELD_MANAGER_ANNOTATION", "field_manager_name", "sandbox_annotations"]

# Read by pulumi-kubernetes in Server-Side Apply mode: the field manager of the object's applies.
FIELD_MANAGER_ANNOTATION = "pulumi.com/patchFieldManager"


def field_manager_name(slug: str) -> str:
    """The manager every object of sandbox ``slug`` is applied with."""
    return f"sandboxes-{slug}"


def sandbox_annotations(slug: str) -> dict[str, str]:
    """The annotations every Kubernetes object of sandbox ``slug`` is declared with."""
    return {FIELD_MANAGER_ANNOTATION: field_manager_name(slug)}
