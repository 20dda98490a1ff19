"""The ASGI application: routes, middleware, and the context handlers share."""

from __future__ import annotations

import structlog
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from upwatch.web import ack, api, health, pages, ping
from upwatch.web.context import AppContext
from upwatch.web.middleware import AccessLog, SecurityHeaders, redact_path

log = structlog.get_logger("upwatch.http")


def routes() -> list[Route]:
    return [
        Route("/healthz", health.healthz),
        Route("/readyz", health.readyz),
        Route("/api/v1/status", api.status),
        Route("/api/v1/monitors/{id}", api.monitor),
        Route("/api/v1/monitors/{id}/results", api.results),
        Route("/api/v1/incidents", api.incidents),
        Route("/ping/{id}/{token}", ping.ping, methods=["GET", "POST", "HEAD"]),
        Route("/ping/{id}/{token}/fail", ping.ping_fail, methods=["GET", "POST", "HEAD"]),
        Route("/ack/{token}", ack.ack, methods=["GET", "POST"]),
        *pages.routes(),  # status page, monitor pages, badges, feed, metrics
    ]


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """A database outage is a 503 to retry (with the usual headers), not a bare 500."""
    log.warning(
        "database unreachable while answering a request",
        path=redact_path(request.url.path),
        error=type(exc).__name__,
    )
    body = {"error": "the database is unreachable; try again in a moment"}
    return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})


def create_app(ctx: AppContext) -> Starlette:
    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(AccessLog),
            Middleware(SecurityHeaders),
            Middleware(GZipMiddleware, minimum_size=500),
        ],
        # Handled inside the middleware stack, so these answers carry the security headers too.
        exception_handlers={
            SQLAlchemyError: database_unavailable,
            OSError: database_unavailable,
        },
    )
    app.state.ctx = ctx
    return app
