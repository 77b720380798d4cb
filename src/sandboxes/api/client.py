"""``ApiClient``: the HTTP API behind the same method names as ``SandboxService``.

``sandboxctl --api-url URL --token T`` swaps this in for the local service, so each
command is written once. Problem details come back as the service's own errors
(``Conflict`` with its ``operation_id``, ``Invalid`` with its fields), so the CLI's
exit codes do not depend on where the service ran. The ``principal`` arguments are
ignored: the token says who is asking.
"""

from __future__ import annotations

import builtins
import json
from typing import Any

import httpx

from sandboxes.service import (
    Accepted,
    Conflict,
    Credentials,
    EventPublic,
    Forbidden,
    Invalid,
    NotFound,
    OperationPublic,
    OperationStatus,
    Principal,
    SandboxCreate,
    SandboxPage,
    SandboxPublic,
    SandboxStatus,
    SandboxUpdate,
    ServiceError,
    Unauthenticated,
    Unavailable,
)
from sandboxes.spec import SandboxSettings

__all__ = ["ApiClient"]


class ApiClient:
    def __init__(self, base_url: str, token: str | None, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout,
                                  transport=transport)

    def close(self) -> None:
        self._http.close()

    # --- plumbing --------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as err:
            raise Unavailable(f"API at {self._http.base_url} not reachable: {type(err).__name__}") from None
        if response.status_code >= 400:
            raise _error(response)
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            return response.text
        return response.json()

    # --- sandboxes -------------------------------------------------------------------------

    def create(self, principal: Principal, request: SandboxCreate) -> Accepted:
        body = request.model_dump(mode="json", exclude_none=True)
        return Accepted.model_validate(self._request("POST", "/v1/sandboxes", json=body))

    def list(self, principal: Principal, provider_id: str | None = None, parent: str | None = None,
             status: SandboxStatus | None = None, limit: int = 50, offset: int = 0) -> SandboxPage:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        for key, value in (("provider_id", provider_id), ("parent", parent), ("status", status)):
            if value is not None:
                params[key] = str(value)
        return SandboxPage.model_validate(self._request("GET", "/v1/sandboxes", params=params))

    def get(self, principal: Principal, slug: str) -> SandboxPublic:
        return SandboxPublic.model_validate(self._request("GET", f"/v1/sandboxes/{slug}"))

    def find_by_name(self, principal: Principal, name: str) -> SandboxPublic | None:
        offset = 0
        while True:
            page = self.list(principal, limit=500, offset=offset)
            for item in page.items:
                if item.name == name:
                    return item
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return None

    def update(self, principal: Principal, slug: str, changes: SandboxUpdate) -> Accepted:
        body = changes.model_dump(mode="json", exclude_none=True)
        return Accepted.model_validate(self._request("PATCH", f"/v1/sandboxes/{slug}", json=body))

    def get_settings(self, principal: Principal, slug: str) -> SandboxSettings:
        return SandboxSettings.model_validate(self._request("GET", f"/v1/sandboxes/{slug}/settings"))

    def update_settings(self, principal: Principal, slug: str, patch: dict[str, Any]) -> Accepted:
        return Accepted.model_validate(self._request("PATCH", f"/v1/sandboxes/{slug}/settings", json=patch))

    def delete(self, principal: Principal, slug: str, confirm: str | None) -> Accepted:
        params = {"confirm": confirm} if confirm is not None else {}
        return Accepted.model_validate(self._request("DELETE", f"/v1/sandboxes/{slug}", params=params))

    def reseed(self, principal: Principal, slug: str, confirm: str | None) -> Accepted:
        params = {"confirm": confirm} if confirm is not None else {}
        return Accepted.model_validate(self._request("POST", f"/v1/sandboxes/{slug}/reseed", params=params))

    def refresh(self, principal: Principal, slug: str) -> Accepted:
        return Accepted.model_validate(self._request("POST", f"/v1/sandboxes/{slug}/refresh"))

    def repair(self, principal: Principal, slug: str) -> Accepted:
        return Accepted.model_validate(self._request("POST", f"/v1/sandboxes/{slug}/repair"))

    def credentials(self, principal: Principal, slug: str) -> Credentials:
        return Credentials.model_validate(self._request("GET", f"/v1/sandboxes/{slug}/credentials"))

    # --- operations ------------------------------------------------------------------------

    def get_operation(self, principal: Principal, operation_id: str) -> OperationPublic:
        return OperationPublic.model_validate(self._request("GET", f"/v1/operations/{operation_id}"))

    def cancel_operation(self, principal: Principal, operation_id: str) -> OperationPublic:
        return OperationPublic.model_validate(self._request("POST", f"/v1/operations/{operation_id}/cancel"))

    def list_operations(self, principal: Principal, sandbox: str | None = None,
                        status: OperationStatus | None = None, limit: int = 50) -> builtins.list[OperationPublic]:
        params: dict[str, Any] = {"limit": limit}
        if sandbox is not None:
            params["sandbox"] = sandbox
        if status is not None:
            params["status"] = str(status)
        return [OperationPublic.model_validate(o) for o in self._request("GET", "/v1/operations", params=params)]

    def operation_events(self, principal: Principal, operation_id: str, after: int = 0,
                         limit: int = 1000) -> builtins.list[EventPublic]:
        """One non-following read of the SSE stream: the events stored so far after ``after``."""
        text = self._request("GET", f"/v1/operations/{operation_id}/events",
                             params={"after": after, "follow": "false"})
        events: builtins.list[EventPublic] = []
        for block in str(text).split("\n\n"):
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if fields.get("event") == "engine" and "id" in fields:
                events.append(EventPublic(seq=int(fields["id"]), created_at=_now(), event=json.loads(fields["data"])))
        return events[:limit]

    def ready(self) -> bool:
        try:
            return self._http.get("/readyz").status_code == 200
        except httpx.HTTPError:
            return False


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _error(response: httpx.Response) -> ServiceError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = str(body.get("detail") or response.text[:300] or response.reason_phrase)
    status = response.status_code
    if status in (400, 422):
        return Invalid(detail, [(e.get("field", ""), e.get("message", "")) for e in body.get("errors") or []])
    if status == 401:
        return Unauthenticated(detail)
    if status == 403:
        return Forbidden(detail)
    if status == 404:
        return NotFound(detail)
    if status == 409:
        return Conflict(detail, body.get("operation_id"))
    return Unavailable(f"API answered {status}: {detail}")
