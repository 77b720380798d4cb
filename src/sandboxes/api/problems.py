"""RFC 9457 problem details: the one translation of the service's errors to HTTP.

Every error response is ``application/problem+json`` with ``type``, ``title``,
``status`` and ``detail``; validation problems add ``errors: [{field, message}]`` and
conflicts ``operation_id`` (the operation to follow before retrying).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandboxes.service import Conflict, Forbidden, Invalid, NotFound, ServiceError, Unauthenticated, Unavailable

__all__ = ["PROBLEM_TYPES", "FieldProblem", "Problem", "install", "problem_response"]

MEDIA_TYPE = "application/problem+json"
_BASE = "https://sandboxes.example/problems/"

#: service error -> (HTTP status, problem type slug)
PROBLEM_TYPES: dict[type[ServiceError], tuple[int, str]] = {
    Invalid: (422, "invalid-request"),
    Unauthenticated: (401, "unauthenticated"),
    Forbidden: (403, "forbidden"),
    NotFound: (404, "not-found"),
    Conflict: (409, "operation-in-progress"),
    Unavailable: (503, "unavailable"),
}


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """The body of every error response (documented in the OpenAPI schema)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None
    operation_id: str | None = None


def problem_response(status: int, slug: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": _BASE + slug, "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    status, slug = next((v for k, v in PROBLEM_TYPES.items() if isinstance(exc, k)), (500, "internal"))
    extra: dict[str, Any] = {}
    if isinstance(exc, Invalid):
        extra["errors"] = [{"field": f, "message": m} for f, m in exc.problems]
    if isinstance(exc, Conflict):
        extra["operation_id"] = exc.operation_id
    return problem_response(status, slug, exc.title, exc.detail, **extra)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "(body)"


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    malformed = False
    for item in exc.errors():
        kind = item.get("type", "")
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        if kind == "json_invalid":
            malformed = True
            message = "malformed JSON: " + str(item.get("ctx", {}).get("error", message))
        elif kind == "extra_forbidden":
            message = "unknown field: remove it or check its spelling"
        errors.append({"field": _field(item.get("loc", ())), "message": message})
    if malformed:
        return problem_response(400, "malformed-request", "Malformed request", "the body is not valid JSON",
                                errors=errors)
    return problem_response(422, "invalid-request", "Invalid request",
                            "the request does not validate: see errors[] for each field and what to fix",
                            errors=errors)


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed", 401: "Authentication required"}
    return problem_response(exc.status_code, f"http-{exc.status_code}", titles.get(exc.status_code, "HTTP error"),
                            str(exc.detail))


def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    # Never echo the exception: it may carry a database URL or engine output.
    return problem_response(500, "internal", "Internal error", f"unexpected {type(exc).__name__}; see the server log")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
