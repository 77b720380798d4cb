"""``/v1/sandboxes``: thin over ``SandboxService`` — parse, call, shape the response."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response, status

from sandboxes.api.deps import CurrentPrincipal, ServiceDep
from sandboxes.api.problems import Problem
from sandboxes.service import (
    Accepted,
    Credentials,
    SandboxCreate,
    SandboxPage,
    SandboxPublic,
    SandboxStatus,
    SandboxUpdate,
)
from sandboxes.spec import SandboxSettings

router = APIRouter(prefix="/v1/sandboxes", tags=["sandboxes"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}, "description": why}
    for code, why in {
        401: "missing or unknown bearer token",
        403: "the caller's role or provider may not do this",
        404: "no such sandbox visible to the caller",
        409: "another operation is active on the sandbox (see operation_id)",
        422: "a field is invalid (see errors[])",
    }.items()
}


def _accepted(response: Response, accepted: Accepted) -> Accepted:
    response.headers["Location"] = f"/v1/operations/{accepted.operation.id}"
    return accepted


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted, responses=_ERRORS)
def create_sandbox(body: SandboxCreate, principal: CurrentPrincipal, service: ServiceDep,
                   response: Response) -> Accepted:
    """Create a sandbox: returns at once with the sandbox and the ``up`` operation provisioning it."""
    return _accepted(response, service.create(principal, body))


@router.get("", response_model=SandboxPage, responses=_ERRORS)
def list_sandboxes(
    principal: CurrentPrincipal,
    service: ServiceDep,
    provider_id: Annotated[str | None, Query(max_length=63)] = None,
    parent: Annotated[str | None, Query(max_length=32)] = None,
    status: SandboxStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> SandboxPage:
    return service.list(principal, provider_id=provider_id, parent=parent, status=status, limit=limit, offset=offset)


@router.get("/{slug}", response_model=SandboxPublic, responses=_ERRORS)
def get_sandbox(slug: str, principal: CurrentPrincipal, service: ServiceDep) -> SandboxPublic:
    return service.get(principal, slug)


@router.patch("/{slug}", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted, responses=_ERRORS)
def update_sandbox(slug: str, body: SandboxUpdate, principal: CurrentPrincipal, service: ServiceDep,
                   response: Response) -> Accepted:
    """Edit name and/or description (both are in the spec: an ``up`` applies them)."""
    return _accepted(response, service.update(principal, slug, body))


@router.delete("/{slug}", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted, responses=_ERRORS)
def delete_sandbox(
    slug: str,
    principal: CurrentPrincipal,
    service: ServiceDep,
    response: Response,
    confirm: Annotated[str | None, Query(description="repeat the slug: deletion is permanent")] = None,
) -> Accepted:
    """Permanently delete: destroy every resource, then the stack and its stack file."""
    return _accepted(response, service.delete(principal, slug, confirm))


@router.get("/{slug}/settings", response_model=SandboxSettings, responses=_ERRORS)
def get_settings(slug: str, principal: CurrentPrincipal, service: ServiceDep) -> SandboxSettings:
    return service.get_settings(principal, slug)


@router.patch("/{slug}/settings", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted, responses=_ERRORS)
def update_settings(
    slug: str,
    principal: CurrentPrincipal,
    service: ServiceDep,
    response: Response,
    patch: Annotated[dict[str, Any], Body(description="JSON merge patch (RFC 7396) of the settings")],
) -> Accepted:
    return _accepted(response, service.update_settings(principal, slug, patch))


@router.get("/{slug}/credentials", response_model=Credentials, responses=_ERRORS)
def get_credentials(slug: str, principal: CurrentPrincipal, service: ServiceDep, response: Response) -> Credentials:
    """The sandbox's API credentials. Secret: the response is never cached."""
    response.headers["Cache-Control"] = "no-store"
    return service.credentials(principal, slug)


@router.post("/{slug}/reseed", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted, responses=_ERRORS)
def reseed_sandbox(
    slug: str,
    principal: CurrentPrincipal,
    service: ServiceDep,
    response: Response,
    confirm: Annotated[str | None, Query(description="repeat the slug: the sandbox's data is replaced")] = None,
) -> Accepted:
    """Wipe the business data and seed it again from the sandbox's data mode (e.g. refresh a masked copy)."""
    return _accepted(response, service.reseed(principal, slug, confirm))


@router.post("/{slug}/refresh", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted, responses=_ERRORS)
def refresh_sandbox(slug: str, principal: CurrentPrincipal, service: ServiceDep, response: Response) -> Accepted:
    return _accepted(response, service.refresh(principal, slug))


@router.post("/{slug}/repair", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted, responses=_ERRORS)
def repair_sandbox(slug: str, principal: CurrentPrincipal, service: ServiceDep, response: Response) -> Accepted:
    return _accepted(response, service.repair(principal, slug))
