"""The words around the monitors: the overall banner, incidents, announcements, maintenance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo

from upwatch.config.models import Config
from upwatch.engine.dependencies import held_parent
from upwatch.engine.maintenance import EVERY_MONITOR, Window
from upwatch.engine.model import ShownState
from upwatch.probes.public_words import plain_cause
from upwatch.store.reads import IncidentRecord
from upwatch.web.board import Banner, DayHistory, IncidentView, MonitorView, NoticeView
from upwatch.web.board_source import HISTORY_DAYS
from upwatch.web.pages_format import Clockface

PER_DAY = 10  # incidents listed per day of history before "and N more"
_HEADLINES = {
    "operational": "All systems operational",
    "degraded": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "maintenance": "Scheduled maintenance in progress",
    "unknown": "No data yet",
}


def names(monitors: Sequence[MonitorView], most: int = 3) -> str:
    """`Public API, Database and 4 more`."""
    shown = [m.name for m in monitors[:most]]
    rest = len(monitors) - len(shown)
    if rest:
        return f"{', '.join(shown)} and {rest} more"
    if len(shown) > 1:
        return f"{', '.join(shown[:-1])} and {shown[-1]}"
    return "".join(shown)


def banner(overall: str, monitors: Sequence[MonitorView]) -> Banner:
    waiting = sum(m.state is ShownState.UNKNOWN for m in monitors)
    detail = _detail(overall, monitors, waiting)
    if waiting and overall != "unknown":
        # Without a result a monitor is neither working nor failing: say so rather than count it.
        verb = "has" if waiting == 1 else "have"
        detail += f" {waiting} of {len(monitors)} {verb} no data yet."
    return Banner(overall, _HEADLINES[overall], detail)


def _detail(overall: str, monitors: Sequence[MonitorView], waiting: int) -> str:
    def having(state: ShownState) -> list[MonitorView]:
        return [m for m in monitors if m.state is state]

    down = having(ShownState.DOWN)
    if overall == "major_outage":
        return f"{len(down)} of {len(monitors) - waiting} services are down: {names(down)}."
    if overall == "partial_outage":
        return f"Down: {names(down)}." + ("" if waiting else " Everything else is working.")
    if overall == "degraded":
        reachable = "" if waiting else " Everything is reachable."
        unsteady = having(ShownState.DEGRADED) + having(ShownState.FLAPPING)
        return f"Slower, degraded or unsteady: {names(unsteady)}.{reachable}"
    if overall == "maintenance":
        return f"Planned work on {names(having(ShownState.MAINTENANCE))}."
    return _calm(overall, len(monitors), waiting)


def _calm(overall: str, total: int, waiting: int) -> str:
    if not total:
        return "No services are published on this page yet."
    if overall == "unknown":
        return f"None of the {total} services has reported a check yet."
    if waiting:
        return f"{total - waiting} of {total} services are working normally."
    return f"All {total} services are working normally."


def incident_view(row: IncidentRecord, show_urls: bool, now: datetime) -> IncidentView:
    end = row.resolved_at or now
    # The public cause, in plain words, never carries hosts or URLs; without one, say nothing
    # rather than leak.
    cause = row.cause if show_urls else plain_cause(row.public_cause)
    declared = bool(row.declared)
    # A declared incident is shown under the first monitor it names, if any.
    monitor_id, monitor_name = row.shown_monitor or (None, None)
    return IncidentView(
        id=row.id,
        monitor_id=monitor_id,
        monitor_name=monitor_name,
        started_at=row.started_at,
        confirmed_at=row.confirmed_at,
        resolved_at=row.resolved_at,
        acknowledged_at=row.acknowledged_at,
        duration_seconds=max(0, int((end - row.started_at).total_seconds())),
        cause=None if declared else cause,
        held_by_dependency=held_parent(getattr(row, "held_by", None)) is not None,
        title=row.title,
        declared=declared,
        updates=row.updates,
    )


def history(
    recent: Sequence[IncidentRecord], show_urls: bool, zone: tzinfo, now: datetime
) -> list[DayHistory]:
    """The days of the last HISTORY_DAYS that had resolved incidents, newest first. Ongoing
    incidents are listed above the services already; days without incidents are left out."""
    today = now.astimezone(zone).date()
    oldest = today - timedelta(days=HISTORY_DAYS - 1)
    by_day: dict[date, list[IncidentView]] = {}
    for row in recent:
        day = row.started_at.astimezone(zone).date()
        if row.resolved_at is not None and oldest <= day <= today:
            by_day.setdefault(day, []).append(incident_view(row, show_urls, now))
    return [
        DayHistory(day, items[:PER_DAY], max(0, len(items) - PER_DAY))
        for day, items in sorted(by_day.items(), reverse=True)
    ]


def next_occurrences(windows: Sequence[Window], now: datetime) -> list[Window]:
    """The current or next occurrence of each configured window: a daily window is one entry,
    not one per day of the coming week."""
    found: dict[tuple[str, tuple[str, ...]], Window] = {}
    for window in sorted(windows, key=lambda w: w.starts_at):
        if window.ends_at > now:
            found.setdefault((window.name, window.monitors), window)
    return list(found.values())


def notices(
    config: Config,
    windows: Sequence[Window],
    monitors: Sequence[MonitorView],
    clockface: Clockface,
    now: datetime,
) -> list[NoticeView]:
    return [
        *_announcements(config, clockface, now),
        *_maintenance(windows, monitors, clockface, now),
    ]


def _announcements(config: Config, clockface: Clockface, now: datetime) -> list[NoticeView]:
    found = []
    for a in config.announcements:
        if (a.start is None or a.start <= now) and (a.end is None or now < a.end):
            when = f"Posted {clockface.time(a.start)}" if a.start else ""
            if a.end is not None:
                when = f"{when} · until {clockface.time(a.end)}".lstrip(" ·")
            found.append(NoticeView(a.severity, a.title, a.body, when, active=True))
    return found


def _maintenance(
    windows: Sequence[Window],
    monitors: Sequence[MonitorView],
    clockface: Clockface,
    now: datetime,
) -> list[NoticeView]:
    found = []
    for window in next_occurrences(windows, now):
        if EVERY_MONITOR in window.monitors:
            affected = "all services"
        else:
            members = [m for m in monitors if m.id in window.monitors]
            if not members:
                continue  # only private monitors: nothing a customer needs to know
            affected = names(members, most=5)
        active = window.covers(now)
        when = clockface.span(window.starts_at, window.ends_at)
        body = (
            f"Affects {affected[:1].lower()}{affected[1:]}."
            if affected == "All services"
            else f"Affects {affected}."
        )
        found.append(NoticeView("maintenance", window.name, body, when, active))
    return found
