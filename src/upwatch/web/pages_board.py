"""The current status page: its model (`Board`) and its rendered body, cached together.

Badges, the feed and the monitor pages read the same cached board, so every public surface tells
the same story and none of them queries the database per request. Building runs the database
reads on the event loop and the CPU work (bars, templates, gzip) in a worker thread, so serving
cached pages goes on while a thousand monitors are re-rendered.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from upwatch.config.loader import LoadedConfig
from upwatch.web.board import Board
from upwatch.web.board_build import build_board
from upwatch.web.board_source import HISTORY_DAYS, BoardSource, fetch_board_source
from upwatch.web.context import AppContext
from upwatch.web.render import HTML, Body, render
from upwatch.web.status import json_bytes, status_document

_BANNER_ICONS = {
    "operational": "up",
    "degraded": "degraded",
    "partial_outage": "down",
    "major_outage": "down",
    "maintenance": "maintenance",
    "unknown": "unknown",
}
_FAVICON_COLOURS = {
    "operational": "%2317864a",
    "degraded": "%23f0b429",
    "partial_outage": "%23c4511c",
    "major_outage": "%23c53030",
    "maintenance": "%232b63c0",
}
NOTICE_WORDS = {"info": "Notice", "minor": "Minor", "major": "Major", "critical": "Critical"}


@dataclass(frozen=True, slots=True)
class StatusPage:
    """One snapshot of the public status: the model, the page and the API's document."""

    board: Board
    body: Body
    status_json: bytes  # GET /api/v1/status


def favicon(overall: str) -> str:
    colour = _FAVICON_COLOURS.get(overall, "%237b8594")
    return (
        "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"
        f"%3Ccircle cx='8' cy='8' r='7' fill='{colour}'/%3E%3C/svg%3E"
    )


def page_values(board: Board, **values: Any) -> dict[str, Any]:
    """What the base template needs on every page."""
    return {
        "title": board.title,
        "description": board.description,
        "favicon": favicon(board.banner.state),
        "zone": board.clockface.zone(board.generated_at),
        "refresh": board.refresh_seconds,
        **values,
    }


async def current_page(ctx: AppContext) -> StatusPage:
    """The cached status page of the running config (rebuilt at most every few seconds)."""
    loaded = ctx.loaded

    async def build() -> StatusPage:
        assert ctx.engine is not None
        now = ctx.clock()
        source = await fetch_board_source(ctx.engine, loaded.config, now, ctx.latency)
        return await asyncio.to_thread(render_status, source, loaded, now)

    return await ctx.pages.get(("status", loaded.digest), build, ctx.state_version())


def render_status(source: BoardSource, loaded: LoadedConfig, now: datetime) -> StatusPage:
    config = loaded.shown()  # titles, announcements, windows: as they may be shown
    board = build_board(source, config, now)
    text = render(
        "page/status.html.j2",
        **page_values(board),
        board=board,
        banner_icon=_BANNER_ICONS[board.banner.state],
        notice_words=NOTICE_WORDS,
        history_days=HISTORY_DAYS,
        subscribe_form=config.status_page.subscriptions is not None,
    )
    document = json_bytes(status_document(board, source, config))
    return StatusPage(board, Body.of(text, HTML), document)
