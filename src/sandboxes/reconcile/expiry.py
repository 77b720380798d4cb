"""Expiry: a sandbox whose ``platform.expires_at`` has passed should no longer exist.

Reconcile never creates an expired sandbox, destroys an existing one only under
``--prune`` (the same switch that guards every destroy), and warns about the ones that
expire within the next day so that their owners can extend them in a merge request.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sandboxes.spec import SandboxSpec

__all__ = ["SOON", "expires_soon", "is_expired", "now"]

SOON = timedelta(hours=24)


def now() -> datetime:
    return datetime.now(UTC)


def is_expired(spec: SandboxSpec, at: datetime) -> bool:
    expires = spec.platform.expires_at
    return expires is not None and expires <= at


def expires_soon(spec: SandboxSpec, at: datetime, within: timedelta = SOON) -> bool:
    expires = spec.platform.expires_at
    return expires is not None and at < expires <= at + within
