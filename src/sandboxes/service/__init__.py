"""The service layer: the one place with business rules (roles, ownership, operations).

It never imports FastAPI, Typer or Rich; it raises its own errors (``errors``) and the
shells translate them. Public face below; everything else is an implementation module.
"""

from sandboxes.service.core import API_OWNER, SandboxService
from sandboxes.service.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError, Unauthenticated, Unavailable
from sandboxes.service.factory import build_service, open_database
from sandboxes.service.principal import LOCAL_ADMIN, Principal, Role
from sandboxes.service.schemas import (
    Accepted,
    Credentials,
    EventPublic,
    IssuedToken,
    OperationKind,
    OperationPublic,
    OperationStatus,
    SandboxCreate,
    SandboxPage,
    SandboxPublic,
    SandboxStatus,
    SandboxUpdate,
)

__all__ = [
    "API_OWNER",
    "LOCAL_ADMIN",
    "Accepted",
    "Conflict",
    "Credentials",
    "EventPublic",
    "Forbidden",
    "Invalid",
    "IssuedToken",
    "NotFound",
    "OperationKind",
    "OperationPublic",
    "OperationStatus",
    "Principal",
    "Role",
    "SandboxCreate",
    "SandboxPage",
    "SandboxPublic",
    "SandboxService",
    "SandboxStatus",
    "SandboxUpdate",
    "ServiceError",
    "Unauthenticated",
    "Unavailable",
    "build_service",
    "open_database",
]
