"""Maintenance windows from monitors.yaml, as concrete intervals of time.

A one-off window is its `start`..`end`; a recurring one is each fire time of its crontab
expression (evaluated in `status_page.timezone`) plus its `duration`. Windows are
half-open, `[starts_at, ends_at)`: at `ends_at` the monitor is out of maintenance, which is when an
incident that kept failing through the window is confirmed. Everything returned is in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from upwatch.config.cron import crontab_trigger
from upwatch.config.models import Config, MaintenanceWindow

EVERY_MONITOR = "*"
_TICK = timedelta(microseconds=1)
# How far back to look for the last end of a recurring window: short first (cheap for frequent
# crontabs), then long enough for weekly, monthly and yearly (29 February) expressions.
_LOOKBACKS = tuple(timedelta(days=d) for d in (1 / 24, 1, 8, 32, 367, 1462))


@dataclass(frozen=True, slots=True)
class Window:
    """One occurrence of a maintenance window. `monitors` is as configured (may be `("*",)`)."""

    name: str
    starts_at: datetime
    ends_at: datetime
    monitors: tuple[str, ...]

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at

    def applies_to(self, monitor_id: str) -> bool:
        return EVERY_MONITOR in self.monitors or monitor_id in self.monitors


class _Definition:
    """One configured window, able to list its occurrences."""

    def __init__(self, window: MaintenanceWindow, timezone: tzinfo) -> None:
        self.name = window.name
        self.monitors = tuple(window.monitors)
        self.start, self.end = window.start, window.end
        self.duration = window.duration or timedelta(0)
        self.trigger: BaseTrigger | None = (
            None if window.cron is None else crontab_trigger(window.cron, timezone)
        )

    def applies_to(self, monitor_id: str) -> bool:
        return EVERY_MONITOR in self.monitors or monitor_id in self.monitors

    def between(self, start: datetime, end: datetime) -> Iterator[Window]:
        """Occurrences overlapping `[start, end)`, in order."""
        if self.trigger is None:
            # The config model ensures a window without cron has both start and end.
            assert self.start is not None
            assert self.end is not None
            if self.start < end and self.end > start:
                yield Window(self.name, self.start, self.end, self.monitors)
            return
        fire = self.trigger.get_next_fire_time(None, start - self.duration)
        while fire is not None and fire < end:
            begins = fire.astimezone(UTC)
            if begins + self.duration > start:
                yield Window(self.name, begins, begins + self.duration, self.monitors)
            fire = self.trigger.get_next_fire_time(None, fire + _TICK)

    def last_end_before(self, at: datetime) -> datetime | None:
        if self.trigger is None:
            return self.end if self.end is not None and self.end <= at else None
        for lookback in _LOOKBACKS:
            ends = [w.ends_at for w in self.between(at - lookback, at) if w.ends_at <= at]
            if ends:
                return max(ends)
        return None


class MaintenanceSchedule:
    """Every configured window; answers which apply to a monitor at or between instants."""

    def __init__(self, windows: Sequence[MaintenanceWindow], timezone: tzinfo) -> None:
        self._definitions = tuple(_Definition(w, timezone) for w in windows)

    @classmethod
    def from_config(cls, config: Config) -> MaintenanceSchedule:
        return cls(config.maintenance, ZoneInfo(config.status_page.timezone))

    def active(self, monitor_id: str, at: datetime) -> Window | None:
        """The window `monitor_id` is in at `at` (the one ending last if several overlap)."""
        current = [w for w in self.windows_between(monitor_id, at, at + _TICK) if w.covers(at)]
        return max(current, key=lambda w: (w.ends_at, w.name), default=None)

    def windows_between(self, monitor_id: str, start: datetime, end: datetime) -> list[Window]:
        """Windows of `monitor_id` overlapping `[start, end)`, by start time."""
        return _sorted(
            w for d in self._definitions if d.applies_to(monitor_id) for w in d.between(start, end)
        )

    def upcoming(self, at: datetime, horizon: timedelta) -> list[Window]:
        """Current and future windows of any monitor overlapping `[at, at + horizon)`."""
        return _sorted(w for d in self._definitions for w in d.between(at, at + horizon))

    def last_end_before(self, monitor_id: str, at: datetime) -> datetime | None:
        """The end of the most recent window of `monitor_id` that ended at or before `at`."""
        ends = [
            end
            for d in self._definitions
            if d.applies_to(monitor_id) and (end := d.last_end_before(at)) is not None
        ]
        return max(ends, default=None)


def _sorted(windows: Iterator[Window]) -> list[Window]:
    return sorted(windows, key=lambda w: (w.starts_at, w.name))
