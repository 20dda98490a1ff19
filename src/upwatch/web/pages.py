"""The public HTML pages (`/`, `/monitors/{id}`) and the routes of every public integration.

Pages are rendered from the cached board (see pages_board): a request reads bytes from memory,
never the database, except when the cache is cold. Unknown, private and archived monitors get the
same 404 page, so a guessed id reveals nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from upwatch.web import params
from upwatch.web.badges import status_badge, uptime_badge
from upwatch.web.board import Board
from upwatch.web.context import AppContext
from upwatch.web.feed import atom_feed
from upwatch.web.metrics import metrics
from upwatch.web.pages_board import current_page, favicon, page_values
from upwatch.web.pages_monitor import monitor_body, range_of
from upwatch.web.render import HTML, Body, render, respond

RETRY_SECONDS = 5


def routes() -> list[Route]:
    return [
        Route("/", status_page),
        Route("/monitors/{id}", monitor_page),
        Route("/groups/{slug}", group_page),
        Route("/badge/{id}.svg", status_badge),
        Route("/badge/{id}/uptime.svg", uptime_badge),
        Route("/feed.atom", atom_feed),
        Route("/metrics", metrics),
        Route("/robots.txt", robots_txt),
    ]


ROBOTS_TXT = "User-agent: *\nAllow: /\n"


async def robots_txt(request: Request) -> Response:
    """Every page here is public and meant to be found; an answer also keeps crawlers' 404s
    out of the logs."""
    return PlainTextResponse(ROBOTS_TXT, headers={"Cache-Control": "public, max-age=86400"})


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


async def status_page(request: Request) -> Response:
    return await _guarded(request, _status_page)


async def monitor_page(request: Request) -> Response:
    return await _guarded(request, _monitor_page)


async def group_page(request: Request) -> Response:
    return await _guarded(request, _group_page)


async def _group_page(request: Request, ctx: AppContext) -> Response:
    """One group's monitors with their bars: where a large page's summary row links."""
    page = await current_page(ctx)
    group = page.board.group(str(request.path_params["slug"]))
    if group is None:
        return _not_found(request, page.board)
    name = group.name or ("Services" if len(page.board.groups) == 1 else "Other services")
    text = render("page/group.html.j2", **page_values(page.board), g=group, group_name=name)
    return respond(request, Body.of(text, HTML))


def _not_found(request: Request, board: Board) -> Response:
    text = render("page/not_found.html.j2", **page_values(board, refresh=0))
    return respond(request, Body.of(text, HTML), status=404, cache_seconds=0)


async def _status_page(request: Request, ctx: AppContext) -> Response:
    page = await current_page(ctx)
    return respond(request, page.body)


async def _monitor_page(request: Request, ctx: AppContext) -> Response:
    page = await current_page(ctx)
    monitor = page.board.monitor(params.monitor_id(request) or "")
    if monitor is None:
        return _not_found(request, page.board)
    range_key = range_of(request.query_params.getlist("range"))
    return respond(request, await monitor_body(ctx, page, monitor, range_key))


async def _guarded(
    request: Request, handler: Callable[[Request, AppContext], Awaitable[Response]]
) -> Response:
    """Before the database is open, or while it is unreachable with nothing cached: a 503 page
    that retries by itself, never a stack trace."""
    ctx = context(request)
    if ctx.engine is None:
        return unavailable(ctx, "Starting up: the status of every service appears in a moment.")
    try:
        return await handler(request, ctx)
    except (SQLAlchemyError, OSError):
        return unavailable(ctx, "The status data is unreachable right now. Please try again soon.")


def unavailable(ctx: AppContext, message: str) -> Response:
    title = ctx.loaded.shown().status_page.title
    text = render(
        "page/unavailable.html.j2",
        title=title,
        description=None,
        favicon=favicon("unknown"),
        zone="UTC",
        refresh=RETRY_SECONDS,
        message=message,
    )
    body = Body.of(text, HTML)
    return Response(
        body.raw,
        status_code=503,
        media_type=HTML,
        headers={"Retry-After": str(RETRY_SECONDS), "Cache-Control": "no-store"},
    )
