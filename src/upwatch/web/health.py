"""`/healthz` (liveness for Railway) and `/readyz` (database reachable and migrated)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse

from upwatch.store.migrate import is_migrated
from upwatch.web.context import AppContext

READY_TIMEOUT_SECONDS = 3.0  # a silent database is "not ready", not a hung health check


async def healthz(request: Request) -> JSONResponse:
    ctx: AppContext = request.app.state.ctx
    health = ctx.health
    body = {
        "status": "ok" if health.healthy() else "unavailable",
        "config_loaded": health.config_loaded,
        "migrated": health.migrated,
        "seconds_since_tick": _rounded(health.since_tick()),
    }
    return JSONResponse(body, status_code=200 if health.healthy() else 503)


async def readyz(request: Request) -> JSONResponse:
    ctx: AppContext = request.app.state.ctx
    if ctx.engine is None:
        return JSONResponse({"status": "starting", "database": "not open"}, status_code=503)
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            migrated = await is_migrated(ctx.engine)
    except Exception:  # any driver error means "not reachable"; the log has the detail
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    if not migrated:
        return JSONResponse({"status": "unavailable", "database": "not migrated"}, 503)
    return JSONResponse({"status": "ok", "database": "ok"})


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
