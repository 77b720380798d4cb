"""The HTTP API (FastAPI): thin over ``sandboxes.service``; OpenAPI at ``/openapi.json``, docs at ``/docs``.

Only this package knows HTTP: status codes, problem details, bearer tokens, SSE.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from sandboxes.api import problems
from sandboxes.api.routes import health, operations, sandboxes
from sandboxes.service import SandboxService, build_service
from sandboxes.settings import Settings

__all__ = ["create_app"]


def create_app(service: SandboxService | None = None, settings: Settings | None = None,
               recover: bool = True) -> FastAPI:
    """The application; builds the service (worker pool, migrations) from settings unless one is given.

    With ``recover``, start-up fails operations whose worker died and resumes queued ones.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc: SandboxService = app.state.service
        pool = svc.dispatcher
        if recover and hasattr(pool, "recover"):
            pool.recover()
        yield
        if hasattr(pool, "shutdown"):
            pool.shutdown(wait=False)

    app = FastAPI(
        title="Sandboxes API",
        version="1",
        summary="Isolated sandboxes of the e-mobility platform, one Pulumi stack each.",
        lifespan=lifespan,
    )
    app.state.service = service or build_service(settings or Settings())
    problems.install(app)
    app.include_router(health.router)
    app.include_router(sandboxes.router)
    app.include_router(operations.router)
    return app
