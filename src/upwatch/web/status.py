"""`GET /api/v1/status`: the status page's data as JSON (DESIGN §7, exactly that shape)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.config.models import Config
from upwatch.engine.maintenance import MaintenanceSchedule
from upwatch.store import reads
from upwatch.store.rollups import Rollup
from upwatch.web.context import AppContext
from upwatch.web.views import (
    History,
    incident_json,
    iso,
    load_history,
    overall_status,
    shown_cause,
    shown_state,
    uptimes,
)

MAINTENANCE_HORIZON = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one request's monitor summaries are computed from."""

    config: Config
    schedule: MaintenanceSchedule
    history: History
    latency: dict[str, Rollup]
    now: datetime

    @classmethod
    async def load(cls, connection: AsyncConnection, config: Config, now: datetime) -> Snapshot:
        return cls(
            config,
            MaintenanceSchedule.from_config(config),
            await load_history(connection, now),
            await reads.latency_since(connection, now - timedelta(hours=24)),
            now,
        )


def monitor_json(row: Row[Any], snap: Snapshot) -> dict[str, Any]:
    rollup = snap.latency.get(row.id)
    return {
        "id": row.id,
        "name": row.name,
        "type": row.type,
        "state": str(shown_state(row, snap.schedule, snap.now)),
        "since": iso(row.since),
        "cause": shown_cause(row, snap.config),
        "last_checked_at": iso(row.last_result_at),
        "uptime": uptimes(row, snap.history, snap.schedule, snap.now),
        "response_time_ms": {
            "p50": _ms(rollup.percentile(0.5)) if rollup else None,
            "p95": _ms(rollup.percentile(0.95)) if rollup else None,
        },
    }


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value)


def public_rows(rows: list[Row[Any]], config: Config) -> list[Row[Any]]:
    """Public monitors in the order the config lists them."""
    order = {m.id: i for i, m in enumerate(config.monitors)}
    shown = [r for r in rows if r.public]
    return sorted(shown, key=lambda r: (order.get(r.id, len(order)), r.id))


def groups_json(monitors: list[tuple[Row[Any], dict[str, Any]]]) -> list[dict[str, Any]]:
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for row, data in monitors:
        groups.setdefault(row.group_name, []).append(data)
    return [{"name": name, "monitors": items} for name, items in groups.items()]


async def status_document(ctx: AppContext, now: datetime) -> dict[str, Any]:
    assert ctx.engine is not None
    config = ctx.loaded.config
    async with ctx.engine.connect() as connection:
        rows = public_rows(await reads.live_monitors(connection), config)
        snap = await Snapshot.load(connection, config, now)
        ids = [r.id for r in rows]
        incidents = await reads.incident_rows(connection, monitor_ids=ids, open_only=True)
    monitors = [(r, monitor_json(r, snap)) for r in rows]
    visible = set(ids)
    return {
        "status": overall_status([shown_state(r, snap.schedule, now) for r in rows]),
        "generated_at": iso(now),
        "groups": groups_json(monitors),
        "incidents": [incident_json(i, config, now) for i in incidents],
        "announcements": _announcements(config, now),
        "maintenance": _maintenance(snap.schedule, visible, now),
    }


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


def _maintenance(
    schedule: MaintenanceSchedule, visible: set[str], now: datetime
) -> list[dict[str, Any]]:
    found = []
    for window in schedule.upcoming(now, MAINTENANCE_HORIZON):
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
