"""`GET /api/v1/status` and `/api/v1/monitors/{id}`: the status page's own model as JSON.

Both read the cached `Board` the page is rendered from (one snapshot per rebuild, shared by every
public surface), so the API and the page can never disagree and a request costs no database work
beyond the monitor's own incidents.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from upwatch.config.models import Config
from upwatch.engine.maintenance import Window
from upwatch.store import reads
from upwatch.web.api_models import (
    Announcement,
    Group,
    Incident,
    IncidentUpdate,
    Maintenance,
    MonitorSummary,
    StatusDocument,
)
from upwatch.web.board import Board, MonitorView
from upwatch.web.board_notes import incident_view, next_occurrences
from upwatch.web.board_source import BoardSource
from upwatch.web.views import overall_status

MAINTENANCE_HORIZON = timedelta(days=7)


def monitor_summary(view: MonitorView) -> MonitorSummary:
    return MonitorSummary(
        id=view.id,
        name=view.name,
        type=view.type,
        state=view.state,
        since=view.since,
        cause=view.cause,
        last_checked_at=view.last_checked_at,
        uptime=view.uptime,
        response_time_ms=view.response_time_ms,
    )


def incident(
    row: reads.IncidentRecord, config: Config, now: datetime, *, full: bool = False
) -> Incident:
    """An incident row as the API shows it: the page's view of it (public cause unless
    show_urls, or `full` for an authenticated answer), so both read it the same way."""
    view = incident_view(row, full or config.status_page.show_urls, now)
    return Incident(
        id=view.id,
        monitor_id=view.monitor_id,
        monitor_name=view.monitor_name,
        title=view.title,
        declared=view.declared,
        updates=[IncidentUpdate(at=u.at, status=u.status, body=u.body) for u in view.updates],
        started_at=view.started_at,
        confirmed_at=view.confirmed_at,
        resolved_at=view.resolved_at,
        duration_seconds=view.duration_seconds,
        cause=view.cause,
        acknowledged_at=view.acknowledged_at,
    )


def status_document(board: Board, source: BoardSource, config: Config) -> StatusDocument:
    now = board.generated_at
    monitors = list(board.by_id.values())
    return StatusDocument(
        status=overall_status([m.state for m in monitors]),
        generated_at=now,
        groups=[
            Group(name=group.name, monitors=[monitor_summary(m) for m in group.monitors])
            for group in board.groups
        ],
        incidents=[incident(r, config, now) for r in source.open_incidents],
        announcements=_announcements(config, now),
        maintenance=_maintenance(board.windows, set(board.by_id), now),
    )


def json_bytes(document: StatusDocument) -> bytes:
    """Serialized as Starlette's JSONResponse does, once per snapshot rather than per request."""
    text = json.dumps(
        document.json_data(), ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )
    return text.encode("utf-8")


def _announcements(config: Config, now: datetime) -> list[Announcement]:
    current = [
        a
        for a in config.announcements
        if (a.start is None or a.start <= now) and (a.end is None or now < a.end)
    ]
    return [
        Announcement(title=a.title, body=a.body, severity=a.severity, start=a.start, end=a.end)
        for a in current
    ]


def _maintenance(windows: list[Window], visible: set[str], now: datetime) -> list[Maintenance]:
    """The current or next occurrence (within a week) of each window of the monitors shown,
    as the page lists them."""
    found = []
    for window in next_occurrences(windows, now):
        if window.starts_at >= now + MAINTENANCE_HORIZON:
            continue
        monitors = (
            sorted(visible)
            if "*" in window.monitors
            else [m for m in window.monitors if m in visible]
        )
        if monitors:
            found.append(
                Maintenance(
                    name=window.name,
                    starts_at=window.starts_at,
                    ends_at=window.ends_at,
                    monitors=monitors,
                )
            )
    return found
