"""The 90 daily uptime bars of one monitor, drawn with few elements and readable by keyboard.

Runs of days that read the same (a quiet fleet is "100% up, no downtime" for 90 days) are one
element each: a thousand monitors stay a page a phone can open. Every run is focusable and
carries its words (`2026-11-20: 99.52% up, 6m 55s down`, or `2026-08-25 to 2026-11-19: 100% up,
no downtime`): hovering or tabbing to it shows them over the bars, and screen readers read them.
Colour is never the only signal; the page also prints the uptime figures as text. Days before the
first result, and every day of a monitor that has no state yet, are grey and say "no data". The
CSS draws each day of a run as its own bar, and shows the last 30 days on a phone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from markupsafe import Markup, escape

from upwatch.engine.uptime import DayUptime
from upwatch.web.pages_format import duration, percent

# (lowest uptime, CSS class): 100% green, >=99% light green, >=95% amber, below that red.
LEVELS = ((100.0, "up"), (99.0, "minor"), (95.0, "major"))


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive days with the same colour and the same words."""

    kind: str
    words: str  # what each of its days reads, without the date
    first: date
    last: date
    days: int

    def label(self) -> str:
        when = self.first.isoformat()
        if self.days > 1:
            when = f"{when} to {self.last.isoformat()}"
        return f"{when}: {self.words}"

    def joined(self, other: Run) -> Run | None:
        if (self.kind, self.words) != (other.kind, other.words):
            return None
        return Run(self.kind, self.words, self.first, other.last, self.days + other.days)


def level(uptime: float | None) -> str:
    if uptime is None:
        return "none"
    for lowest, name in LEVELS:
        if uptime >= lowest:
            return name
    return "down"


def day_words(bar: DayUptime, first_day: date | None) -> str:
    if bar.uptime is None:
        if first_day is None or bar.day < first_day:
            return "no data"
        return "not measured (paused or in maintenance)"
    down = "no downtime" if bar.downtime_seconds == 0 else f"{duration(bar.downtime_seconds)} down"
    return f"{percent(bar.uptime)} up, {down}"


def bar_label(bar: DayUptime, first_day: date | None) -> str:
    return f"{bar.day.isoformat()}: {day_words(bar, first_day)}"


def bars_html(
    past: tuple[DayUptime, ...], today: DayUptime, first_day: date | None, *, down_now: bool = False
) -> Markup:
    """The bars of `past` and `today`, oldest first. Only today's bar changes between
    renderings, so the runs before it are found once per history.

    While the monitor is down, today's bar is red whatever its percentage: an outage that began
    minutes ago leaves the day 99.9 % up, and a light green bar beside "Down" would contradict it.
    """
    kind = "down" if down_now and today.uptime is not None else level(today.uptime)
    last = Run(kind, day_words(today, first_day), today.day, today.day, 1)
    runs = list(_past_runs(past, first_day))
    joined = runs[-1].joined(last) if runs else None
    runs[-1:] = [joined] if joined is not None else [*runs[-1:], last]
    items = "".join(
        f'<span class="run {r.kind}" role="listitem" tabindex="0" style="--n:{r.days}">'
        f'<span class="tip">{escape(r.label())}</span></span>'
        for r in runs
    )
    return Markup(  # noqa: S704 - the labels are escaped above; the rest are numbers
        f'<div class="bars" role="list" aria-label="Uptime per day, last {len(past) + 1} days">'
        f'<div class="strip">{items}</div></div>'
    )


@lru_cache(maxsize=4096)
def _past_runs(past: tuple[DayUptime, ...], first_day: date | None) -> tuple[Run, ...]:
    runs: list[Run] = []
    for bar in past:
        run = Run(level(bar.uptime), day_words(bar, first_day), bar.day, bar.day, 1)
        joined = runs[-1].joined(run) if runs else None
        runs[-1:] = [joined] if joined is not None else [*runs[-1:], run]
    return tuple(runs)


def days_with_downtime(bars: Sequence[DayUptime]) -> int:
    return sum(1 for b in bars if b.downtime_seconds > 0)
