"""Heartbeat check-ins: `GET|POST /ping/{id}/{token}` (up) and `.../fail` (down).

A wrong token answers exactly like an unknown id, so the endpoint does not reveal which ids exist.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import PlainTextResponse

from upwatch.config.models import HeartbeatMonitor
from upwatch.web.context import AppContext


async def ping(request: Request) -> PlainTextResponse:
    return _check_in(request, ok=True)


async def ping_fail(request: Request) -> PlainTextResponse:
    return _check_in(request, ok=False)


def _check_in(request: Request, *, ok: bool) -> PlainTextResponse:
    ctx: AppContext = request.app.state.ctx
    monitor = ctx.loaded.config.monitor(request.path_params["id"])
    token = request.path_params["token"]
    if not isinstance(monitor, HeartbeatMonitor) or not hmac.compare_digest(
        monitor.token.encode(), token.encode()
    ):
        return PlainTextResponse("not found: no heartbeat monitor with this id and token\n", 404)
    if ctx.checkins is None:
        return PlainTextResponse("starting up, try again in a moment\n", 503)
    ctx.checkins.check_in(monitor.id, ctx.clock(), ok)
    return PlainTextResponse("OK\n" if ok else "OK (failure recorded)\n")
