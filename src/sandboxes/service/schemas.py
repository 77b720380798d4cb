"""Request and response shapes of the service, shared by the HTTP API, the CLI and the API client.

Split as Create / Update / Public: what a caller may send to make a sandbox, what it may
change afterwards, and what it gets back. Public shapes never hold secrets; the one
exception, ``Credentials``, is returned only by ``SandboxService.credentials``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sandboxes.spec import Access, DataMode, Devices, Module, Platform, SandboxSettings

__all__ = [
    "Accepted",
    "Credentials",
    "EventPublic",
    "IssuedToken",
    "OperationKind",
    "OperationPublic",
    "OperationStatus",
    "SandboxCreate",
    "SandboxPage",
    "SandboxPublic",
    "SandboxStatus",
    "SandboxUpdate",
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SandboxCreate(_Request):
    """What the "New Sandbox" form sends (seed 000, step 3)."""

    name: str = Field(min_length=1, max_length=80, examples=["API Integration Test"])
    description: str = Field(default="", max_length=500)
    modules: list[Module] = Field(min_length=1, max_length=2, examples=[["cpo"]])
    data: DataMode = DataMode.BLANK
    parent: str | None = Field(default=None, description="slug of an existing sandbox; required for data 'copy'")
    live_provider_id: str | None = Field(default=None, description="system admins only")
    provider_id: str | None = Field(
        default=None, description="system admins only (None: a prospect sandbox); provider admins get their own"
    )
    settings: SandboxSettings | None = None
    access: Access | None = None
    platform: Platform | None = None
    devices: Devices | None = None


class SandboxUpdate(_Request):
    """The edit icon: name and description only."""

    name: str | None = Field(default=None, min_length=1, max_length=80)
    description: str | None = Field(default=None, max_length=500)


class SandboxStatus(StrEnum):
    CREATING = "creating"
    READY = "ready"
    UPDATING = "updating"
    FAILED = "failed"
    DELETING = "deleting"


class OperationKind(StrEnum):
    UP = "up"
    DESTROY = "destroy"
    REFRESH = "refresh"
    REPAIR = "repair"


class OperationStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self not in (OperationStatus.QUEUED, OperationStatus.RUNNING)


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OperationPublic(_Public):
    id: str
    sandbox: str
    kind: OperationKind
    status: OperationStatus
    requested_by: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    cancel_requested_at: datetime | None = Field(
        default=None, description="set when a running operation was asked to stop; its engine stops gracefully")
    cancel_requested_by: str | None = None
    error: str | None = None
    summary: dict[str, Any] | None = Field(default=None, description="engine counts and non-secret outputs")


class SandboxPublic(_Public):
    slug: str
    name: str
    description: str
    provider_id: str | None
    live_provider_id: str | None
    parent: str | None
    modules: list[Module]
    data: DataMode
    data_generation: int = Field(default=0, description="how many times the data was re-seeded (reseed bumps it)")
    status: SandboxStatus
    owner: str
    url: str | None = None
    spec_hash: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    active_operation_id: str | None = None
    needs_repair: bool = False


class Accepted(_Public):
    """An accepted change: the sandbox as it will be, and the operation that makes it so."""

    sandbox: SandboxPublic
    operation: OperationPublic


class SandboxPage(_Public):
    items: list[SandboxPublic]
    total: int
    limit: int
    offset: int


class EventPublic(_Public):
    seq: int
    created_at: datetime
    event: dict[str, Any]


class Credentials(_Public):
    """The sandbox's pre-created API credentials (seed 000, "API Credentials"). Secret: show once, never log."""

    slug: str
    url: str | None
    api_key_id: str | None
    api_secret: str | None
    database_url: str | None = None


class TokenPublic(_Public):
    """A token as listed: who holds it and whether it still works; never the token or its hash."""

    id: str
    name: str
    role: str
    provider_id: str | None
    created_at: datetime
    revoked_at: datetime | None = None


class IssuedToken(_Public):
    id: str
    name: str
    role: str
    provider_id: str | None
    token: str = Field(description="shown once; only its hash is stored")
