"""The ASGI application: routes, middleware, and the context handlers share."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Route

from upwatch.web import api, health, ping
from upwatch.web.context import AppContext
from upwatch.web.middleware import AccessLog, SecurityHeaders


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
    ]


def create_app(ctx: AppContext) -> Starlette:
    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(AccessLog),
            Middleware(SecurityHeaders),
            Middleware(GZipMiddleware, minimum_size=500),
        ],
    )
    app.state.ctx = ctx
    return app
