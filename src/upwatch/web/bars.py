"""The 90 daily uptime bars: one SVG per monitor, every bar labelled with its day in words.

Colour is never the only signal: each bar carries a `<title>` such as
`2026-11-20: 99.52% up, 6m 55s down` (the browser's tooltip, and its accessible name), and the
page prints the uptime figures as text beside the bars. Days before the first result, and every
day of a monitor that has no state yet, are grey and say "no data". Many monitors share the same
history (a quiet fleet is 100% every day), so the SVG is built once per distinct history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache

from markupsafe import Markup, escape

from upwatch.engine.uptime import DayUptime
from upwatch.web.pages_format import duration, percent

BAR_WIDTH, BAR_GAP, BAR_HEIGHT = 3, 1, 28
# (lowest uptime, CSS class): 100% green, >=99% light green, >=95% amber, below that red.
LEVELS = ((100.0, "up"), (99.0, "minor"), (95.0, "major"))


def level(uptime: float | None) -> str:
    if uptime is None:
        return "none"
    for lowest, name in LEVELS:
        if uptime >= lowest:
            return name
    return "down"


def bar_label(bar: DayUptime, first_day: date | None) -> str:
    day = bar.day.isoformat()
    if bar.uptime is None:
        if first_day is None or bar.day < first_day:
            return f"{day}: no data"
        return f"{day}: not measured (paused or in maintenance)"
    down = "no downtime" if bar.downtime_seconds == 0 else f"{duration(bar.downtime_seconds)} down"
    return f"{day}: {percent(bar.uptime)} up, {down}"


def bars_svg(
    past: tuple[DayUptime, ...], today: DayUptime, first_day: date | None, *, down_now: bool = False
) -> Markup:
    """An SVG that stretches to its container; the CSS shows the last 30 days on a phone.

    Only today's bar changes between renderings, so the other bars are built once per history.
    While the monitor is down, today's bar is red whatever its percentage: an outage that began
    minutes ago leaves the day 99.9 % up, and a light green bar beside "Down" would contradict it.
    """
    step = BAR_WIDTH + BAR_GAP
    width = (len(past) + 1) * step - BAR_GAP
    today_class = "down" if down_now and today.uptime is not None else level(today.uptime)
    rects = _past_rects(past, first_day) + _rect(len(past), today, first_day, today_class)
    return Markup(  # noqa: S704 - the labels are escaped in _rect; the rest are numbers
        f'<svg class="bars" viewBox="0 0 {width} {BAR_HEIGHT}" preserveAspectRatio="none" '
        f'role="group" aria-label="Uptime per day, last {len(past) + 1} days"><g>{rects}</g></svg>'
    )


@lru_cache(maxsize=4096)
def _past_rects(past: tuple[DayUptime, ...], first_day: date | None) -> str:
    return "".join(_rect(i, bar, first_day) for i, bar in enumerate(past))


def _rect(index: int, bar: DayUptime, first_day: date | None, kind: str | None = None) -> str:
    kind = kind or level(bar.uptime)
    return (
        f'<rect x="{index * (BAR_WIDTH + BAR_GAP)}" width="{BAR_WIDTH}" height="{BAR_HEIGHT}" '
        f'class="{kind}"><title>{escape(bar_label(bar, first_day))}</title></rect>'
    )


def days_with_downtime(bars: Sequence[DayUptime]) -> int:
    return sum(1 for b in bars if b.downtime_seconds > 0)
