"""Request dependencies as ``Annotated`` aliases: the service and the authenticated principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sandboxes.service import Principal, SandboxService

__all__ = ["CurrentPrincipal", "ServiceDep"]

_bearer = HTTPBearer(auto_error=False, description="a token from `sandboxctl tokens create`")


def get_service(request: Request) -> SandboxService:
    service: SandboxService = request.app.state.service
    return service


ServiceDep = Annotated[SandboxService, Depends(get_service)]


def get_principal(
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    return service.authenticate(credentials.credentials if credentials else None)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
