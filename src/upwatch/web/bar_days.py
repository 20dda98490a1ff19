"""The uptime of each of the last 90 days of one monitor, cheaply enough to redo every few seconds
for a thousand monitors.

Only today's bar changes from one rendering to the next. The 89 days before it are computed by
`daily_uptime` once per distinct history and day and remembered: their inputs are clamped at
today's midnight (an open incident or pause counts until then), which changes nothing about days
that end there, and makes the key the same from one rendering to the next. Today's bar is
computed every time, from the real intervals and `now`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from upwatch.engine.uptime import DayUptime, Interval, OpenInterval, daily_uptime

BAR_DAYS = 90
_CACHED_HISTORIES = 8192  # distinct (history, day) pairs kept; a quiet fleet shares one


@dataclass(frozen=True, slots=True)
class DayBars:
    past: tuple[DayUptime, ...]  # the same object for the same history on the same day
    today: DayUptime
    first_day: date | None  # the day of the first result, if within the bars

    @property
    def all(self) -> tuple[DayUptime, ...]:
        return (*self.past, self.today)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def day_uptimes(
    first_result_at: datetime | None,
    incidents: Sequence[OpenInterval],
    excluded: Sequence[Interval],
    now: datetime,
    zone: ZoneInfo,
) -> DayBars:
    """The last BAR_DAYS days in `zone`, oldest first; today counts up to `now`."""
    today = now.astimezone(zone).date()
    cut = midnight(today, zone)
    oldest = midnight(today - timedelta(days=BAR_DAYS - 1), zone)
    # Any first result before the oldest bar gives the same bars; one after the cut gives none.
    first = None if first_result_at is None else min(max(first_result_at, oldest), cut)
    past = _past_days(
        first,
        tuple(sorted((s, min(e or cut, cut)) for s, e in incidents if s < cut)),
        tuple(sorted((s, min(e, cut)) for s, e in excluded if s < cut)),
        cut,
        zone,
    )
    (today_bar,) = daily_uptime(now, zone, incidents, excluded, first_result_at, days=1)
    return DayBars(past, today_bar, None if first is None else first.astimezone(zone).date())


@lru_cache(maxsize=_CACHED_HISTORIES)
def _past_days(
    first: datetime | None,
    incidents: tuple[Interval, ...],
    excluded: tuple[Interval, ...],
    cut: datetime,
    zone: ZoneInfo,
) -> tuple[DayUptime, ...]:
    # At `now` = today's midnight, today's bar is empty: dropping it leaves exactly the past days.
    return tuple(daily_uptime(cut, zone, incidents, excluded, first, days=BAR_DAYS)[:-1])
