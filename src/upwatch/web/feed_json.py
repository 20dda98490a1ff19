"""`/feed.json`: the Atom feed's incidents as a JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/).

The same entries as `/feed.atom` (`feed.feed_entries`: written updates, then their incident),
from the same status snapshot and incident rows, so the two feeds never disagree. Links are
absolute only when `status_page.public_url` is set.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from upwatch.store import reads
from upwatch.web.board import Board
from upwatch.web.context import AppContext
from upwatch.web.feed import FEED_LIMIT, Entry, feed_entries, serve_feed
from upwatch.web.pages_board import current_page
from upwatch.web.render import Body

JSON_FEED = "application/feed+json; charset=utf-8"
VERSION = "https://jsonfeed.org/version/1.1"


def feed_document(board: Board, rows: Sequence[Any], public_url: str | None) -> dict[str, Any]:
    base = (public_url or "").rstrip("/")
    authority = urlsplit(base).hostname or "upwatch.invalid"
    document: dict[str, Any] = {
        "version": VERSION,
        "title": f"{board.title}: incidents",
        "description": f"Outages of the services on {board.title}, newest first.",
        "authors": [{"name": board.title}],
        "language": "en",
        "items": [_item(e, base) for e in feed_entries(board, rows, authority)],
    }
    if base:
        document["home_page_url"] = f"{base}/"
        document["feed_url"] = f"{base}/feed.json"
    return document


def _item(e: Entry, base: str) -> dict[str, Any]:
    return {
        "id": e.id,
        "url": f"{base}/monitors/{e.monitor_id}" if e.monitor_id else f"{base}/",
        "title": e.title,
        "content_text": e.text,
        "date_published": e.published,
        "date_modified": e.updated_text,
    }


async def json_feed(request: Request) -> Response:
    return await serve_feed(request, _feed_body)


async def _feed_body(ctx: AppContext) -> Body:
    page = await current_page(ctx)
    public_url = ctx.loaded.shown().status_page.public_url

    async def build() -> Body:
        assert ctx.engine is not None
        async with ctx.engine.connect() as connection:
            rows = await reads.incident_rows(
                connection, monitor_ids=list(page.board.by_id), limit=FEED_LIMIT, unattached=True
            )
        document = feed_document(page.board, rows, public_url)
        return Body.of(json.dumps(document, ensure_ascii=False), JSON_FEED)

    return await ctx.pages.get(("feed.json", ctx.loaded.digest), build)
