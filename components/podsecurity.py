"""Pod Security "restricted" settings shared by every pod of a sandbox.

The namespace enforces ``pod-security.kubernetes.io/enforce: restricted``, so the real
API server rejects any pod missing one of these; keeping them in one function means a
new pod cannot forget one.
"""

from __future__ import annotations

from typing import Any

__all__ = ["APP_UID", "container_security_context", "pod_security_context"]

APP_UID = 10001


def pod_security_context(uid: int = APP_UID) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
