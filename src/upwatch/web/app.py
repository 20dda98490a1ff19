"""The ASGI application: routes, middleware, and the context handlers share."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Route
from starlette.types import ASGIApp

from upwatch.web import (
    ack,
    api,
    api_write,
    errors,
    feed_json,
    health,
    openapi,
    pages,
    ping,
    subscribe,
)
from upwatch.web.context import AppContext
from upwatch.web.middleware import AccessLog, SecurityHeaders
from upwatch.web.params import BadParameter


def routes() -> list[Route]:
    return [
        Route("/healthz", health.healthz),
        Route("/readyz", health.readyz),
        Route("/api/v1/status", api.status),
        Route("/api/v1/monitors/{id}", api.monitor),
        Route("/api/v1/monitors/{id}/results", api.results),
        Route("/api/v1/incidents", api.incidents),
        Route("/api/v1/incidents", api_write.declare, methods=["POST"]),
        Route("/api/v1/incidents/{id}/updates", api_write.add_update, methods=["POST"]),
        Route("/api/v1/openapi.json", openapi.openapi_json),
        Route("/ping/{id}/{token}", ping.ping, methods=["GET", "POST", "HEAD"]),
        Route("/ping/{id}/{token}/fail", ping.ping_fail, methods=["GET", "POST", "HEAD"]),
        Route("/ack/{token}", ack.ack, methods=["GET", "POST"]),
        *subscribe.routes(),
        Route("/feed.json", feed_json.json_feed),
        *pages.routes(),  # status page, monitor pages, badges, feed, metrics
    ]


class UpwatchApp(Starlette):
    def build_middleware_stack(self) -> ASGIApp:
        # Starlette puts its ServerErrorMiddleware outside every middleware given to it, so a 500
        # would leave without the security headers and unseen by the access log: wrap it too.
        return SecurityHeaders(AccessLog(super().build_middleware_stack()))


def create_app(ctx: AppContext) -> Starlette:
    app = UpwatchApp(
        routes=routes(),
        middleware=[Middleware(GZipMiddleware, minimum_size=500)],
        exception_handlers={
            BadParameter: errors.bad_parameter,
            # Only what says the database cannot be reached; any other error is a bug (a 500).
            DBAPIError: errors.database_unavailable,
            PoolTimeout: errors.database_unavailable,
            OSError: errors.database_unavailable,
            Exception: errors.internal_error,
        },
    )
    app.router.redirect_slashes = False  # SlashRedirect does it, with a relative Location
    app.router.default = errors.SlashRedirect(app.router)
    app.state.ctx = ctx
    return app
