"""The JSON API: `/api/v1/...`. Public monitors only; unknown ids are a 404.

Causes are in public words, unless the caller holds UPWATCH_API_TOKEN: then the monitor, its
results and the incidents carry the full technical cause (api_auth). `/api/v1/status` is the one
public snapshot whoever asks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from upwatch.probes.public_words import plain_cause
from upwatch.store import reads
from upwatch.store import regions as region_store
from upwatch.store.slo_reads import slo_statuses
from upwatch.web import params
from upwatch.web.api_auth import Caller, caller, mark, unauthorized
from upwatch.web.api_models import Body, Error, Incidents, MonitorDetail, Result, Results
from upwatch.web.board_source import public_rows
from upwatch.web.context import AppContext
from upwatch.web.pages_board import current_page
from upwatch.web.regions_view import region_states
from upwatch.web.slo_figures import slo_figures
from upwatch.web.status import incident, monitor_summary
from upwatch.web.views import shown_cause

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


def _ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def _json(body: Body, status: int = 200) -> JSONResponse:
    return JSONResponse(body.json_data(), status_code=status)


def _error(status: int, message: str) -> JSONResponse:
    return _json(Error(error=message), status)


def _starting_up() -> JSONResponse:
    answer = _error(503, "starting up")
    answer.headers["Retry-After"] = "5"
    return answer


def _since_and_limit(request: Request) -> tuple[datetime | None, int]:
    """`since` and `limit`; a bad one raises BadParameter, which the app answers with 400."""
    since = params.instant(request, "since")
    limit = params.whole_number(request, "limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    return since, limit


async def status(request: Request) -> Response:
    """The cached snapshot's document, serialized once per rebuild."""
    ctx = _ctx(request)
    if ctx.engine is None:
        return _starting_up()
    page = await current_page(ctx)
    return Response(page.status_json, media_type="application/json")


async def _public_row(ctx: AppContext, monitor_id: str | None) -> Any:
    """The monitor's row if it is public and live; one row read, not all of them."""
    assert ctx.engine is not None
    if monitor_id is None:  # not a slug: no monitor has this id
        return None
    async with ctx.engine.connect() as connection:
        row = await reads.live_monitor(connection, monitor_id)
    return row if row is not None and row.public else None


def _caller(request: Request, ctx: AppContext) -> Caller:
    return caller(request, ctx.settings.api_token)


async def monitor(request: Request) -> JSONResponse:
    """One monitor: its summary from the snapshot, its details and incidents from its own rows
    (and, for the token's holder, its technical cause from its row)."""
    ctx = _ctx(request)
    who = _caller(request, ctx)
    if who is Caller.REFUSED:
        return unauthorized()
    if ctx.engine is None:
        return _starting_up()
    monitor_id = params.monitor_id(request)
    view = None if monitor_id is None else (await current_page(ctx)).board.monitor(monitor_id)
    row = None if view is None else await _public_row(ctx, view.id)
    if view is None or row is None:
        return _error(404, "no such monitor")
    config = ctx.loaded.shown()
    now = ctx.clock()
    async with ctx.engine.connect() as connection:
        incidents = await reads.incident_rows(connection, monitor_ids=[row.id], limit=20)
        slo = (await slo_statuses(connection, config, [row.id], now)).get(row.id)
        regional = await region_store.latest_of(connection, row.id)
    listed = config.monitor(row.id)
    info = row.info or {}
    full = who is Caller.TRUSTED
    summary = dict(monitor_summary(view))
    if full:
        summary["cause"] = shown_cause(row, config, full=True)
    body = MonitorDetail(
        **summary,
        group=row.group_name,
        description=info.get("description"),
        tags=info.get("tags", []),
        interval_seconds=row.interval_seconds,
        paused=row.paused,
        target=row.target if config.status_page.show_urls else None,
        created_at=row.created_at,
        incidents=[incident(i, config, now, full=full) for i in incidents],
        slo=slo_figures(slo),
        regions=region_states(listed, regional, ctx.live_regions(), now, full=full),
    )
    return mark(_json(body), who)


async def results(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    who = _caller(request, ctx)
    if who is Caller.REFUSED:
        return unauthorized()
    since, limit = _since_and_limit(request)
    if ctx.engine is None:
        return _starting_up()
    row = await _public_row(ctx, params.monitor_id(request))
    if row is None:
        return _error(404, "no such monitor")
    async with ctx.engine.connect() as connection:
        found = await reads.result_rows(connection, row.id, since=since, limit=limit)
    full = who is Caller.TRUSTED or ctx.loaded.shown().status_page.show_urls
    body = Results(monitor_id=row.id, results=[_result(r, full) for r in found])
    return mark(_json(body), who)


def _result(row: Any, full: bool) -> Result:
    return Result(
        checked_at=row.checked_at,
        state=row.state,
        duration_ms=None if row.duration_ms is None else round(row.duration_ms, 1),
        status_code=row.status_code,
        cause=row.cause if full else plain_cause(row.public_cause),
        phases_ms={k: round(v * 1000, 1) for k, v in (row.phases or {}).items()},
        cert_expires_at=row.cert_expires_at,
        region=row.region,
    )


async def incidents(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    who = _caller(request, ctx)
    if who is Caller.REFUSED:
        return unauthorized()
    since, limit = _since_and_limit(request)
    if ctx.engine is None:
        return _starting_up()
    config = ctx.loaded.shown()
    now = ctx.clock()
    async with ctx.engine.connect() as connection:
        ids = [r.id for r in public_rows(await reads.live_monitors(connection), config)]
        found = await reads.incident_rows(
            connection, monitor_ids=ids, since=since, limit=limit, unattached=True
        )
    full = who is Caller.TRUSTED
    body = Incidents(incidents=[incident(r, config, now, full=full) for r in found])
    return mark(_json(body), who)
