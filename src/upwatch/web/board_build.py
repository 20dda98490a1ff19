"""Building a `Board` from its source rows: a pure function of the rows, the config and `now`.

Maintenance windows are listed once for the whole 90 days and then filtered per monitor (asking
the schedule per monitor and per window would walk the cron triggers thousands of times).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row

from upwatch.config.models import Config
from upwatch.engine.maintenance import MaintenanceSchedule, Window
from upwatch.engine.model import ShownState
from upwatch.engine.state import shown
from upwatch.engine.uptime import Interval, OpenInterval, uptime
from upwatch.store.rollups import Rollup
from upwatch.web.bar_days import BAR_DAYS, day_uptimes
from upwatch.web.bars import bars_html, days_with_downtime
from upwatch.web.board import STATE_WORDS, Board, GroupView, MonitorView
from upwatch.web.board_notes import banner, history, incident_view, notices
from upwatch.web.board_source import BoardSource
from upwatch.web.pages_format import Clockface
from upwatch.web.views import WINDOWS, History, overall_status, shown_cause

NOTICE_HORIZON = timedelta(days=7)
COLLAPSE_ABOVE = 40  # on pages with more monitors, groups with nothing wrong are one row
_ATTENTION = (ShownState.DOWN, ShownState.FLAPPING, ShownState.DEGRADED, ShownState.MAINTENANCE)
_SEVERITY = (*_ATTENTION, ShownState.UP, ShownState.UNKNOWN, ShownState.PAUSED)


@dataclass(slots=True)
class _Inputs:
    config: Config
    source: BoardSource
    now: datetime
    zone: ZoneInfo
    windows: list[Window]


def build_board(source: BoardSource, config: Config, now: datetime) -> Board:
    zone = ZoneInfo(config.status_page.timezone)
    windows = maintenance_windows(config, now)
    inputs = _Inputs(config, source, now, zone, windows)
    monitors = [_monitor(row, inputs) for row in source.rows]
    clockface = Clockface(zone)
    show_urls = config.status_page.show_urls
    states = [m.state for m in monitors]
    return Board(
        title=config.status_page.title,
        description=config.status_page.description,
        generated_at=now,
        clockface=clockface,
        banner=banner(overall_status(states), monitors),
        groups=groups(monitors),
        open_incidents=[incident_view(r, show_urls, now) for r in source.open_incidents],
        notices=notices(config, windows, monitors, clockface, now),
        history=history(source.recent_incidents, show_urls, zone, now),
        by_id={m.id: m for m in monitors},
        windows=windows,
        refresh_seconds=refresh_seconds(config),
    )


def refresh_seconds(config: Config) -> int | None:
    """No reload unless asked for: a reload every minute loses the reader's place and scroll."""
    every = config.status_page.auto_refresh
    return None if every is None else int(every.total_seconds())


def _monitor(row: Row[Any], inputs: _Inputs) -> MonitorView:
    now = inputs.now
    windows = [w for w in inputs.windows if w.applies_to(row.id)]
    incidents, excluded = intervals(row.id, inputs.source.history, windows, now)
    since = measured_since(row)
    figures = uptime_figures(incidents, excluded, since, now)
    days = day_uptimes(since, incidents, excluded, now, inputs.zone)
    config = inputs.config
    state = shown_state(row, windows, now)
    return MonitorView(
        id=row.id,
        name=row.name,
        group=row.group_name,
        type=row.type,
        description=(row.info or {}).get("description"),
        target=row.target if config.status_page.show_urls else None,
        state=state,
        since=row.since,
        cause=shown_cause(row, config),
        last_checked_at=row.last_result_at,
        uptime=figures,
        bars=bars_html(days.past, days.today, days.first_day, down_now=state is ShownState.DOWN),
        bad_days=days_with_downtime(days.all),
        bad_days_30=days_with_downtime(days.all[-30:]),
        measured_days=sum(1 for d in days.all if d.uptime is not None),
        response_time_ms=response_times(inputs.source.latency.get(row.id)),
    )


def measured_since(row: Row[Any]) -> datetime | None:
    """Where uptime starts counting: the first result, unless no result has given the monitor a
    state yet. One failed probe below failure_threshold leaves it UNKNOWN: it has measured nothing,
    and its figures and bars say "no data", never 100 %. A paused or resumed monitor is UNKNOWN too,
    but its results from before (older than its `since`) were measured and keep their history."""
    first: datetime | None = row.first_result_at
    if first is None or (row.state or "unknown") != ShownState.UNKNOWN.value:
        return first
    return first if row.since is not None and first < row.since else None


def response_times(rollup: Rollup | None) -> dict[str, int | None]:
    """p50, p95 and p99 in whole milliseconds from the merged sketch (None without data)."""
    found = (rollup or Rollup()).percentiles()
    return {label: None if value is None else round(value) for label, value in found.items()}


def intervals(
    monitor_id: str, history: History, windows: Sequence[Window], now: datetime
) -> tuple[list[OpenInterval], list[Interval]]:
    """(incidents, excluded periods) of one monitor: excluded are paused, archived and
    maintenance time."""
    incidents: list[OpenInterval] = [(i.start, i.end) for i in history.downtime.get(monitor_id, [])]
    excluded: list[Interval] = [
        *((p.start, p.end or now) for p in history.excluded.get(monitor_id, [])),
        *((w.starts_at, w.ends_at) for w in windows if w.starts_at < now),
    ]
    return incidents, excluded


def uptime_figures(
    incidents: list[OpenInterval],
    excluded: list[Interval],
    first_result_at: datetime | None,
    now: datetime,
) -> dict[str, float | None]:
    return {
        label: uptime(now - size, now, incidents, excluded, first_result_at)
        for label, size in WINDOWS.items()
    }


def maintenance_windows(config: Config, now: datetime) -> list[Window]:
    """Every window of any monitor from before the oldest bar until NOTICE_HORIZON from now."""
    start = now - timedelta(days=BAR_DAYS + 1)
    return MaintenanceSchedule.from_config(config).upcoming(start, now + NOTICE_HORIZON - start)


def shown_state(row: Row[Any], windows: Sequence[Window], now: datetime) -> ShownState:
    """The engine's rule (paused wins over maintenance, which wins over the computed state),
    with the monitor's maintenance windows already listed."""
    in_maintenance = any(w.covers(now) for w in windows)
    computed = ShownState(row.state or "unknown")
    return shown(
        computed,
        paused=bool(row.paused),
        in_maintenance=in_maintenance,
        flapping=getattr(row, "flapping_since", None) is not None,
    )


def groups(monitors: list[MonitorView]) -> list[GroupView]:
    by_name: dict[str | None, list[MonitorView]] = {}
    for monitor in monitors:
        by_name.setdefault(monitor.group, []).append(monitor)
    large = len(monitors) > COLLAPSE_ABOVE
    found = []
    for name, members in by_name.items():
        worst = worst_state([m.state for m in members])
        open_ = not large or worst in _ATTENTION
        summary = group_summary(members, worst)
        found.append(GroupView(name, members, worst, summary, open_, group_slug(name)))
    return found


def group_slug(name: str | None) -> str:
    """`Core services` -> `core-services`: lowercase, anything but letters and digits as `-`.
    Monitors without a group are together under `other`."""
    return re.sub(r"[^a-z0-9]", "-", (name or "other").lower())


def worst_state(states: Sequence[ShownState]) -> ShownState:
    return next((s for s in _SEVERITY if s in states), ShownState.UNKNOWN)


def group_summary(members: Sequence[MonitorView], worst: ShownState) -> str:
    if worst in (ShownState.DOWN, ShownState.FLAPPING, ShownState.DEGRADED):
        count = Counter(m.state for m in members)[worst]
        return f"{count} of {len(members)} {STATE_WORDS[worst].lower()}"
    return STATE_WORDS[worst]
