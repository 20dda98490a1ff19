"""`/feed.atom`: the incidents of public monitors as an Atom feed (RFC 4287), newest first.

Each written update is an entry of its own (a reader sees it arrive), after its incident's.

Links are absolute when `status_page.public_url` is set and relative otherwise: they never come
from the request's Host header, which a client controls (and a shared cache would keep).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from upwatch.store import reads
from upwatch.web.board import Board, IncidentView
from upwatch.web.board_notes import incident_view
from upwatch.web.context import AppContext
from upwatch.web.pages_board import current_page
from upwatch.web.pages_format import Clockface, duration
from upwatch.web.render import Body, render, respond
from upwatch.web.views import iso

ATOM = "application/atom+xml; charset=utf-8"
FEED_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    monitor_id: str | None  # None: a declared incident naming no monitor (links to the page)
    title: str
    text: str
    published: str
    updated: datetime

    @property
    def updated_text(self) -> str | None:
        return iso(self.updated)


def entry(i: IncidentView, authority: str, clockface: Clockface) -> Entry:
    cause = f" Cause: {i.cause}." if i.cause else ""
    if i.declared:
        state = "Resolved" if i.resolved_at is not None else "Ongoing"
        title = f"{state}: {i.title}"
        text = f"{i.title}, declared at {clockface.time(i.started_at)}."
        if i.resolved_at is not None:
            text += f" Resolved at {clockface.time(i.resolved_at)}."
    elif i.resolved_at is not None:
        title = f"Resolved: {i.monitor_name} was down for {duration(i.duration_seconds)}"
        text = (
            f"{i.monitor_name} was down from {clockface.time(i.started_at)} to "
            f"{clockface.time(i.resolved_at)} ({duration(i.duration_seconds)}).{cause}"
        )
    else:
        title = f"{i.monitor_name} is down"
        text = f"{i.monitor_name} is down since {clockface.time(i.started_at)}.{cause}"
        if i.acknowledged_at is not None:
            text += f" Acknowledged at {clockface.time(i.acknowledged_at)}."
    changes = [t for t in (i.confirmed_at, i.acknowledged_at, i.resolved_at) if t is not None]
    tag = f"tag:{authority},{i.started_at:%Y-%m-%d}:incident/{i.id}"
    return Entry(tag, i.monitor_id, title, text, iso(i.started_at) or "", max(changes))


def update_entries(i: IncidentView, authority: str) -> list[Entry]:
    """One entry per written update: `Identified: Public API` and what was written."""
    return [
        Entry(
            f"tag:{authority},{i.started_at:%Y-%m-%d}:incident/{i.id}/update/{u.id}",
            i.monitor_id,
            f"{u.status.capitalize()}: {i.title}",
            u.body,
            iso(u.at) or "",
            u.at,
        )
        for u in reversed(i.updates)
    ]


def feed_entries(board: Board, rows: Sequence[Any], authority: str) -> list[Entry]:
    """The entries of both feeds (Atom and JSON Feed): each incident after its updates."""
    show_urls = False  # the feed is public: causes in their public form
    views = [incident_view(r, show_urls, board.generated_at) for r in rows]
    return [
        e
        for v in views
        for e in (*update_entries(v, authority), entry(v, authority, board.clockface))
    ]


def render_feed(board: Board, rows: Sequence[Any], public_url: str | None) -> str:
    base = (public_url or "").rstrip("/")
    authority = urlsplit(base).hostname or "upwatch.invalid"
    entries = feed_entries(board, rows, authority)
    updated = max((e.updated for e in entries), default=board.generated_at)
    return render(
        "page/feed.atom.j2",
        title=board.title,
        base=base,
        feed_id=f"{base}/feed.atom" if base else f"tag:{authority},2026:feed",
        updated=iso(updated),
        entries=entries,
    )


async def atom_feed(request: Request) -> Response:
    return await serve_feed(request, _feed_body)


async def serve_feed(
    request: Request, body_of: Callable[[AppContext], Awaitable[Body]]
) -> Response:
    """A feed (Atom or JSON) from `body_of`, or a plain 503 while the database is not there."""
    ctx: AppContext = request.app.state.ctx
    if ctx.engine is None:
        return PlainTextResponse("starting up; try again in a moment", 503)
    try:
        body = await body_of(ctx)
    except (SQLAlchemyError, OSError):
        return PlainTextResponse("the incident history is unreachable; try again soon", 503)
    return respond(request, body, cache_seconds=60)


async def _feed_body(ctx: AppContext) -> Body:
    page = await current_page(ctx)
    config = ctx.loaded.shown()

    async def build() -> Body:
        assert ctx.engine is not None
        async with ctx.engine.connect() as connection:
            rows = await reads.incident_rows(
                connection, monitor_ids=list(page.board.by_id), limit=FEED_LIMIT, unattached=True
            )
        text = render_feed(page.board, rows, config.status_page.public_url)
        return Body.of(text, ATOM)

    return await ctx.pages.get(("feed", ctx.loaded.digest), build)
