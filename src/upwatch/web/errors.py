"""How the app answers what went wrong: a client's mistake, an unreachable database, a bug.

Each answer carries the security headers (the app wraps the whole stack, Starlette's own error
middleware included). A client's mistake (a bad parameter, an unknown path, a wrong method) is a
4xx and never an error in the log; only a bug logs a traceback.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Match, Router
from starlette.types import Receive, Scope, Send

from upwatch.web.api_models import Error
from upwatch.web.middleware import redact_path
from upwatch.web.params import BadParameter

log = structlog.get_logger("upwatch.http")


def _answer(request: Request, status: int, message: str) -> Response:
    """JSON under /api/, one line of text elsewhere (pings, badges, feeds are read by programs)."""
    if request.url.path.startswith("/api/"):
        return JSONResponse(Error(error=message).json_data(), status_code=status)
    return PlainTextResponse(f"{message}\n", status_code=status)


async def bad_parameter(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadParameter)
    return _answer(request, 400, str(exc))


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """A database outage is a 503 to retry, not a bare 500."""
    log.warning(
        "database unreachable while answering a request",
        path=redact_path(request.url.path),
        error=type(exc).__name__,
    )
    body = Error(error="the database is unreachable; try again in a moment").json_data()
    return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})


async def internal_error(request: Request, exc: Exception) -> Response:
    """A bug. The traceback goes to the log once (see middleware.AccessLog), not to the client."""
    return _answer(request, 500, "internal error: upwatch could not answer this request")


class SlashRedirect:
    """The router's answer when no route matches: a relative redirect to the same path without
    its trailing slash when that path exists, else 404.

    Starlette's own slash redirect builds an absolute URL from the Host header, which a client
    controls (and which behind a proxy names the wrong scheme): this one sends a path only.
    """

    def __init__(self, router: Router) -> None:
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = _without_slash(scope["path"])
        if scope["type"] == "http" and target is not None and self._exists(scope, target):
            query = scope.get("query_string", b"").decode("latin-1")
            location = quote(target) + (f"?{query}" if query else "")
            await RedirectResponse(location)(scope, receive, send)
            return
        await self.router.not_found(scope, receive, send)

    def _exists(self, scope: Scope, path: str) -> bool:
        moved = {**scope, "path": path}
        return any(route.matches(moved)[0] is not Match.NONE for route in self.router.routes)


def _without_slash(path: str) -> str | None:
    """`/monitors/api/` -> `/monitors/api`; None for `/`, a path without a trailing slash, or
    one that would read as another host (`//host`) or a backslash path."""
    if path == "/" or not path.endswith("/"):
        return None
    target = path.rstrip("/")
    if not target.startswith("/") or target.startswith("//") or re.search(r"[\\\s]", target):
        return None
    return target
