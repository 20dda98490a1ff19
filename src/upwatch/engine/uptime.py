"""Uptime from intervals of time, not from counting samples.

uptime = 1 - (incident time outside excluded periods) / (window - excluded - time before the first
result), where excluded periods are maintenance, paused and archived time (overlaps merged). The
percentage is truncated, never rounded, to two decimals, so 99.999 % shows as 99.99 and only a
window without any downtime shows 100.0. None when nothing is left to measure. The
arithmetic is done in whole microseconds so truncation is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

Interval = tuple[datetime, datetime]
OpenInterval = tuple[datetime, datetime | None]  # an open incident has no end yet
_ZERO = timedelta(0)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class DayUptime:
    """One bar of the status page: a calendar day in the page's time zone."""

    day: date
    uptime: float | None
    downtime_seconds: int


def uptime(
    window_start: datetime,
    window_end: datetime,
    incidents: Sequence[OpenInterval],
    excluded: Sequence[Interval],
    first_result_at: datetime | None,
) -> float | None:
    """Uptime in percent over `[window_start, window_end)`; open incidents run to its end."""
    down, measured = _measure(window_start, window_end, incidents, excluded, first_result_at)
    return _percent(down, measured)


def daily_uptime(
    now: datetime,
    timezone: tzinfo,
    incidents: Sequence[OpenInterval],
    excluded: Sequence[Interval],
    first_result_at: datetime | None,
    *,
    days: int = 90,
) -> list[DayUptime]:
    """The last `days` calendar days in `timezone`, oldest first; today counts up to `now`."""
    today = now.astimezone(timezone).date()
    bars = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        start = _midnight(day, timezone)
        end = min(_midnight(day + timedelta(days=1), timezone), now)
        down, measured = _measure(start, end, incidents, excluded, first_result_at)
        bars.append(DayUptime(day, _percent(down, measured), int(down.total_seconds())))
    return bars


def merge(intervals: Sequence[Interval]) -> list[Interval]:
    """Sorted, non-overlapping intervals covering the same time (empty ones dropped)."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _measure(
    window_start: datetime,
    window_end: datetime,
    incidents: Sequence[OpenInterval],
    excluded: Sequence[Interval],
    first_result_at: datetime | None,
) -> tuple[timedelta, timedelta]:
    """(incident time outside excluded periods, time measured) within the window."""
    if first_result_at is None:
        return _ZERO, _ZERO
    start = max(window_start, first_result_at)
    if start >= window_end:
        return _ZERO, _ZERO
    gaps = _clip(excluded, start, window_end)
    outages = _clip([(s, e or window_end) for s, e in incidents], start, window_end)
    measured = (window_end - start) - _total(gaps)
    return _total(outside(outages, gaps)), measured


def outside(intervals: Sequence[Interval], excluded: Sequence[Interval]) -> list[Interval]:
    """The parts of `intervals` that no `excluded` interval covers; both merged (a sweep)."""
    found: list[Interval] = []
    first = 0  # excluded intervals before this one end before every interval still to come
    for start, end in intervals:
        while first < len(excluded) and excluded[first][1] <= start:
            first += 1
        left, k = start, first
        while left < end and k < len(excluded) and excluded[k][0] < end:
            if excluded[k][0] > left:
                found.append((left, excluded[k][0]))
            left = max(left, excluded[k][1])
            k += 1
        if left < end:
            found.append((left, end))
    return found


def covered(intervals: Sequence[Interval], start: datetime, end: datetime) -> timedelta:
    """Time within `[start, end)` that `intervals` cover, overlaps counted once."""
    return _total(_clip(intervals, start, end))


def _clip(intervals: Sequence[Interval], start: datetime, end: datetime) -> list[Interval]:
    return merge([(max(s, start), min(e, end)) for s, e in intervals])


def _total(intervals: Sequence[Interval]) -> timedelta:
    return sum((end - start for start, end in intervals), _ZERO)


def _percent(down: timedelta, measured: timedelta) -> float | None:
    denominator = measured // _MICROSECOND
    if denominator <= 0:
        return None
    up = denominator - down // _MICROSECOND
    return (up * 10_000 // denominator) / 100


def _midnight(day: date, timezone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone).astimezone(UTC)
