"""Shields-style SVG badges: `/badge/{id}.svg` (state) and `/badge/{id}/uptime.svg?window=30d`.

The layout follows shields.io's "flat" style (Verdana 11px, 5px padding). Text widths come from
an approximate Verdana width table and `textLength` pins them, so a wrong guess squeezes a letter
rather than spilling out of the badge. Unknown, private and archived ids get a grey "not found"
badge with status 404 (an `<img>` still shows something sensible).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response

from upwatch.engine.model import ShownState
from upwatch.web import params
from upwatch.web.context import AppContext
from upwatch.web.pages_board import current_page
from upwatch.web.render import Body, render, respond
from upwatch.web.views import WINDOWS

SVG = "image/svg+xml; charset=utf-8"
GREY, GREEN, LIME, YELLOW, RED, BLUE = "#9f9f9f", "#4c1", "#97ca00", "#dfb317", "#e05d44", "#007ec6"
STATE_COLOURS = {
    ShownState.UP: GREEN,
    ShownState.DEGRADED: YELLOW,
    ShownState.FLAPPING: YELLOW,
    ShownState.DOWN: RED,
    ShownState.MAINTENANCE: BLUE,
    ShownState.PAUSED: GREY,
    ShownState.UNKNOWN: GREY,
}
MAX_LABEL = 64
# Verdana 11px advance widths (px) of common characters; others count as DEFAULT_WIDTH.
_WIDTHS = {
    **dict.fromkeys("ijl", 3.0),
    **dict.fromkeys(" .,:;!|'", 3.9),
    **dict.fromkeys("ftI", 4.3),
    "r": 4.7,
    "-": 4.3,
    **dict.fromkeys("csz", 5.8),
    **dict.fromkeys("aekvxy", 6.5),
    **dict.fromkeys("bdghnopqu0123456789", 6.9),
    "w": 9.0,
    "m": 10.7,
    "%": 12.1,
    **dict.fromkeys("FLJ", 6.2),
    **dict.fromkeys("MW", 10.0),
}
DEFAULT_WIDTH = 7.6


def text_width(text: str) -> float:
    return sum(_WIDTHS.get(ch, DEFAULT_WIDTH) for ch in text)


@dataclass(frozen=True, slots=True)
class BadgeLayout:
    label: str
    message: str
    colour: str
    label_width: int
    message_width: int

    @property
    def width(self) -> int:
        return self.label_width + self.message_width

    # Text is drawn at 10x scale (font-size 110, scale(.1)), as shields does, for crisp hinting.
    @property
    def label_x(self) -> int:
        return self.label_width * 5

    @property
    def message_x(self) -> int:
        return self.label_width * 10 + self.message_width * 5

    @property
    def label_text(self) -> int:
        return (self.label_width - 10) * 10

    @property
    def message_text(self) -> int:
        return (self.message_width - 10) * 10


@lru_cache(maxsize=1024)
def badge_body(label: str, message: str, colour: str) -> Body:
    layout = BadgeLayout(
        label,
        message,
        colour,
        round(text_width(label)) + 10,
        round(text_width(message)) + 10,
    )
    return Body.of(render("page/badge.svg.j2", b=layout), SVG)


def uptime_colour(value: float | None) -> str:
    if value is None:
        return GREY
    if value >= 99.9:
        return GREEN
    if value >= 99:
        return LIME
    return YELLOW if value >= 95 else RED


def _send(request: Request, label: str, message: str, colour: str, status: int = 200) -> Response:
    body = badge_body(label[:MAX_LABEL], message, colour)
    return respond(request, body, status=status, cache_seconds=60 if status == 200 else 0)


async def status_badge(request: Request) -> Response:
    ctx: AppContext = request.app.state.ctx
    if ctx.engine is None:
        return _send(request, "status", "starting", GREY, 503)
    try:
        board = (await current_page(ctx)).board
    except (SQLAlchemyError, OSError):
        return _send(request, "status", "unavailable", GREY, 503)
    monitor = board.monitor(params.monitor_id(request) or "")
    if monitor is None:
        return _send(request, "status", "not found", GREY, 404)
    label = request.query_params.get("label") or monitor.name
    return _send(request, label, str(monitor.state), STATE_COLOURS[monitor.state])


async def uptime_badge(request: Request) -> Response:
    ctx: AppContext = request.app.state.ctx
    window = request.query_params.get("window", "30d")
    if window not in WINDOWS:
        return _send(request, "uptime", "window: 24h, 7d, 30d or 90d", RED, 400)
    if ctx.engine is None:
        return _send(request, f"uptime {window}", "starting", GREY, 503)
    try:
        board = (await current_page(ctx)).board
    except (SQLAlchemyError, OSError):
        return _send(request, f"uptime {window}", "unavailable", GREY, 503)
    monitor = board.monitor(params.monitor_id(request) or "")
    if monitor is None:
        return _send(request, "uptime", "not found", GREY, 404)
    value = monitor.uptime[window]
    message = "no data" if value is None else (f"{value:.2f}%" if value < 100 else "100%")
    label = request.query_params.get("label") or f"uptime {window}"
    return _send(request, label, message, uptime_colour(value))
