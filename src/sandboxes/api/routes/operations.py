"""``/v1/operations``: operation records and their engine events (server-sent events)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import StreamingResponse

from sandboxes.api.deps import CurrentPrincipal, ServiceDep
from sandboxes.api.problems import Problem
from sandboxes.service import OperationPublic, OperationStatus, Principal, SandboxService

router = APIRouter(prefix="/v1/operations", tags=["operations"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "missing or unknown bearer token"},
    404: {"model": Problem, "description": "no such operation visible to the caller"},
}
POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 15.0


@router.get("", response_model=list[OperationPublic], responses=_ERRORS)
def list_operations(
    principal: CurrentPrincipal,
    service: ServiceDep,
    sandbox: Annotated[str | None, Query(max_length=32)] = None,
    status: OperationStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[OperationPublic]:
    return service.list_operations(principal, sandbox=sandbox, status=status, limit=limit)


@router.get("/{operation_id}", response_model=OperationPublic, responses=_ERRORS)
def get_operation(operation_id: str, principal: CurrentPrincipal, service: ServiceDep) -> OperationPublic:
    return service.get_operation(principal, operation_id)


@router.post("/{operation_id}/cancel", response_model=OperationPublic,
             responses={**_ERRORS, 202: {"model": OperationPublic, "description": "running: it stops gracefully"},
                        403: {"model": Problem, "description": "the sandbox is owned by a git directory"},
                        422: {"model": Problem, "description": "already finished"}})
def cancel_operation(operation_id: str, principal: CurrentPrincipal, service: ServiceDep,
                     response: Response) -> OperationPublic:
    """Cancel an operation: a queued one at once (200); a running one gracefully (202).

    A running engine finishes the steps in flight and starts nothing new (what Ctrl-C does
    to ``pulumi up``); follow the operation until it ends ``cancelled``. Asking again is harmless.
    """
    op = service.cancel_operation(principal, operation_id)
    if op.status == OperationStatus.RUNNING:
        response.status_code = 202
    return op


def _sse(event: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, default=str, separators=(',', ':'))}\n\n"


def follow_events(service: SandboxService, principal: Principal, operation_id: str, after: int,
                  follow: bool) -> Iterator[str]:
    """Events as they are stored; ends with an ``end`` event carrying the operation once it has finished."""
    last_beat = time.monotonic()
    while True:
        operation = service.get_operation(principal, operation_id)
        for item in service.operation_events(principal, operation_id, after=after):
            after = item.seq
            yield _sse("engine", item.event, item.seq)
        if operation.status.finished or not follow:
            # Read once more: events written between the two reads must not be lost.
            for item in service.operation_events(principal, operation_id, after=after):
                after = item.seq
                yield _sse("engine", item.event, item.seq)
            yield _sse("end", operation.model_dump(mode="json"))
            return
        if time.monotonic() - last_beat > HEARTBEAT_SECONDS:
            last_beat = time.monotonic()
            yield ": keep-alive\n\n"
        time.sleep(POLL_SECONDS)


@router.get(
    "/{operation_id}/events",
    responses={**_ERRORS, 200: {"content": {"text/event-stream": {}},
                                "description": "`engine` events (id = sequence), then one `end` event"}},
)
def stream_events(
    operation_id: str,
    principal: CurrentPrincipal,
    service: ServiceDep,
    after: Annotated[int, Query(ge=0, description="resume after this event sequence")] = 0,
    follow: Annotated[bool, Query(description="keep streaming until the operation ends")] = True,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-sent events of the operation's engine events, following until it ends."""
    service.get_operation(principal, operation_id)  # 404 before the stream starts
    if last_event_id and last_event_id.isdigit():
        after = max(after, int(last_event_id))
    return StreamingResponse(follow_events(service, principal, operation_id, after, follow),
                             media_type="text/event-stream", headers={"Cache-Control": "no-store"})
