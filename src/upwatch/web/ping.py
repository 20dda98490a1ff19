"""Heartbeat check-ins: `GET|POST /ping/{id}/{token}` (up) and `.../fail` (down).

A wrong token answers exactly like an unknown id, so the endpoint does not reveal which ids exist.
A token longer than any valid one is a 400 before it is compared. Bursts of successes are thinned
to one stored per second (see checkins); every check-in is answered 200.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import PlainTextResponse

from upwatch.config.models import HeartbeatMonitor
from upwatch.web import params
from upwatch.web.context import AppContext

NOT_FOUND = "not found: no heartbeat monitor with this id and token\n"


async def ping(request: Request) -> PlainTextResponse:
    return _check_in(request, ok=True)


async def ping_fail(request: Request) -> PlainTextResponse:
    return _check_in(request, ok=False)


def _check_in(request: Request, *, ok: bool) -> PlainTextResponse:
    ctx: AppContext = request.app.state.ctx
    token = params.token(request)
    monitor_id = params.monitor_id(request)
    monitor = None if monitor_id is None else ctx.loaded.config.monitor(monitor_id)
    if not isinstance(monitor, HeartbeatMonitor) or not hmac.compare_digest(
        monitor.token.encode(), token.encode()
    ):
        return PlainTextResponse(NOT_FOUND, 404)
    if ctx.checkins is None:
        return PlainTextResponse("starting up, try again in a moment\n", 503)
    now = ctx.clock()
    if ctx.checkin_gate.admit(monitor.id, now, ok=ok):
        ctx.checkins.check_in(monitor.id, now, ok)
    return PlainTextResponse("OK\n" if ok else "OK (failure recorded)\n")
