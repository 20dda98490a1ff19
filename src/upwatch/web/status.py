"""`GET /api/v1/status` and `/api/v1/monitors/{id}`: the status page's own model as JSON.

Both read the cached `Board` the page is rendered from (one snapshot per rebuild, shared by every
public surface), so the API and the page can never disagree and a request costs no database work
beyond the monitor's own incidents.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from upwatch.config.models import Config
from upwatch.engine.maintenance import Window
from upwatch.web.board import Board, MonitorView
from upwatch.web.board_source import BoardSource
from upwatch.web.views import incident_json, iso, overall_status

MAINTENANCE_HORIZON = timedelta(days=7)


def monitor_json(view: MonitorView) -> dict[str, Any]:
    return {
        "id": view.id,
        "name": view.name,
        "type": view.type,
        "state": str(view.state),
        "since": iso(view.since),
        "cause": view.cause,
        "last_checked_at": iso(view.last_checked_at),
        "uptime": view.uptime,
        "response_time_ms": view.response_time_ms,
    }


def status_document(board: Board, source: BoardSource, config: Config) -> dict[str, Any]:
    now = board.generated_at
    monitors = list(board.by_id.values())
    return {
        "status": overall_status([m.state for m in monitors]),
        "generated_at": iso(now),
        "groups": [
            {"name": group.name, "monitors": [monitor_json(m) for m in group.monitors]}
            for group in board.groups
        ],
        "incidents": [incident_json(r, config, now) for r in source.open_incidents],
        "announcements": _announcements(config, now),
        "maintenance": _maintenance(board.windows, set(board.by_id), now),
    }


def json_bytes(document: dict[str, Any]) -> bytes:
    """Serialized as Starlette's JSONResponse does, once per snapshot rather than per request."""
    text = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8")


def _announcements(config: Config, now: datetime) -> list[dict[str, Any]]:
    current = [
        a
        for a in config.announcements
        if (a.start is None or a.start <= now) and (a.end is None or now < a.end)
    ]
    return [
        {
            "title": a.title,
            "body": a.body,
            "severity": a.severity,
            "start": iso(a.start),
            "end": iso(a.end),
        }
        for a in current
    ]


def _maintenance(windows: list[Window], visible: set[str], now: datetime) -> list[dict[str, Any]]:
    """Current and coming windows (within a week) of the monitors shown."""
    found = []
    for window in windows:
        if window.ends_at <= now or window.starts_at >= now + MAINTENANCE_HORIZON:
            continue
        monitors = (
            sorted(visible)
            if "*" in window.monitors
            else [m for m in window.monitors if m in visible]
        )
        if monitors:
            found.append(
                {
                    "name": window.name,
                    "starts_at": iso(window.starts_at),
                    "ends_at": iso(window.ends_at),
                    "monitors": monitors,
                }
            )
    return found
