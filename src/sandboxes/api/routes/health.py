"""Liveness and readiness: ``/healthz`` says the process answers, ``/readyz`` that the records DB does."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from sandboxes.api.deps import ServiceDep
from sandboxes.service import Unavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "records database not reachable"}})
def readyz(service: ServiceDep) -> dict[str, Any]:
    if not service.ready():
        raise Unavailable("records database not reachable")
    return {"status": "ready", "database": "ok"}
