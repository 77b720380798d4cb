"""The service's own errors. Shells translate them: HTTP problem details, CLI exit codes.

Each carries what a caller needs to act: ``Invalid`` the fields and what to fix,
``Conflict`` the operation that holds the sandbox, ``Unavailable`` what is down.
"""

from __future__ import annotations

__all__ = [
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "ServiceError",
    "Unauthenticated",
    "Unavailable",
]


class ServiceError(Exception):
    """Base of every error the service raises on purpose."""

    title = "Service error"

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class Invalid(ServiceError):
    """The request cannot be carried out as given; ``problems`` lists (field, what to fix)."""

    title = "Invalid request"

    def __init__(self, detail: str, problems: list[tuple[str, str]] | None = None) -> None:
        self.problems = problems or []
        super().__init__(detail)


class Unauthenticated(ServiceError):
    title = "Authentication required"


class Forbidden(ServiceError):
    """The caller is known but may not do this (role, provider, or a read-only sandbox)."""

    title = "Forbidden"


class NotFound(ServiceError):
    """No such sandbox/operation, or not visible to this caller (we never confirm what others own)."""

    title = "Not found"


class Conflict(ServiceError):
    """Another operation is active on the sandbox; retry when it ends."""

    title = "Operation in progress"

    def __init__(self, detail: str, operation_id: str | None = None) -> None:
        self.operation_id = operation_id
        super().__init__(detail)


class Unavailable(ServiceError):
    """A dependency (records database, engine backend, remote API) cannot be reached."""

    title = "Unavailable"
