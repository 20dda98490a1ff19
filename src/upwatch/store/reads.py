"""Read queries behind the JSON API and the pages. Nothing here writes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.store.tables import HOURLY, INCIDENTS, MONITORS, PERIODS, RESULTS, STATES


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime | None


def _live_monitors() -> Any:
    return (
        select(MONITORS, STATES.c.state, STATES.c.since, STATES.c.last_result_at)
        .add_columns(
            STATES.c.last_cause,
            STATES.c.last_public_cause,
            STATES.c.last_status_code,
            STATES.c.open_incident_id,
            STATES.c.last_result_state,
            STATES.c.flapping_since,
        )
        .join(STATES, STATES.c.monitor_id == MONITORS.c.id, isouter=True)
        .where(MONITORS.c.archived_at.is_(None))
    )


async def live_monitors(connection: AsyncConnection) -> list[Row[Any]]:
    """Every monitor not archived, with its state columns, in config order of names."""
    return list(await connection.execute(_live_monitors()))


async def live_monitor(connection: AsyncConnection, monitor_id: str) -> Row[Any] | None:
    """One monitor not archived, with its state columns; None if there is none."""
    query = _live_monitors().where(MONITORS.c.id == monitor_id)
    return (await connection.execute(query)).first()


async def incident_rows(
    connection: AsyncConnection,
    *,
    monitor_ids: Sequence[str] | None = None,
    since: datetime | None = None,
    open_only: bool = False,
    limit: int = 100,
) -> list[Row[Any]]:
    """Incidents newest first, with their monitor's name."""
    query = (
        select(INCIDENTS, MONITORS.c.name.label("monitor_name"))
        .join(MONITORS, MONITORS.c.id == INCIDENTS.c.monitor_id)
        .order_by(INCIDENTS.c.started_at.desc(), INCIDENTS.c.id.desc())
        .limit(limit)
    )
    if monitor_ids is not None:
        query = query.where(INCIDENTS.c.monitor_id.in_(list(monitor_ids)))
    if since is not None:
        query = query.where(INCIDENTS.c.started_at >= since)
    if open_only:
        query = query.where(INCIDENTS.c.resolved_at.is_(None))
    return list(await connection.execute(query))


async def downtime_since(connection: AsyncConnection, start: datetime) -> dict[str, list[Interval]]:
    """Incident intervals per monitor that overlap [start, now)."""
    query = select(INCIDENTS.c.monitor_id, INCIDENTS.c.started_at, INCIDENTS.c.resolved_at).where(
        or_(INCIDENTS.c.resolved_at.is_(None), INCIDENTS.c.resolved_at > start)
    )
    found: dict[str, list[Interval]] = defaultdict(list)
    for row in await connection.execute(query):
        found[row.monitor_id].append(Interval(row.started_at, row.resolved_at))
    return found


async def excluded_since(connection: AsyncConnection, start: datetime) -> dict[str, list[Interval]]:
    """Paused and archived periods per monitor that overlap [start, now)."""
    query = select(PERIODS.c.monitor_id, PERIODS.c.started_at, PERIODS.c.ended_at).where(
        or_(PERIODS.c.ended_at.is_(None), PERIODS.c.ended_at > start)
    )
    found: dict[str, list[Interval]] = defaultdict(list)
    for row in await connection.execute(query):
        found[row.monitor_id].append(Interval(row.started_at, row.ended_at))
    return found


async def hourly_rollups(
    connection: AsyncConnection, monitor_id: str, start: datetime
) -> list[Row[Any]]:
    query = (
        select(HOURLY)
        .where(and_(HOURLY.c.monitor_id == monitor_id, HOURLY.c.bucket >= start))
        .order_by(HOURLY.c.bucket)
    )
    return list(await connection.execute(query))


async def result_rows(
    connection: AsyncConnection, monitor_id: str, *, since: datetime | None, limit: int
) -> list[Row[Any]]:
    """Raw results newest first."""
    query = (
        select(RESULTS)
        .where(RESULTS.c.monitor_id == monitor_id)
        .order_by(RESULTS.c.checked_at.desc(), RESULTS.c.id.desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(RESULTS.c.checked_at >= since)
    return list(await connection.execute(query))


def _monitors_with_latest_result() -> Any:
    # The latest result is found through the state's last_result_at and the
    # (monitor_id, checked_at) index: one lookup per monitor, never a scan of the results.
    latest = and_(
        RESULTS.c.monitor_id == MONITORS.c.id, RESULTS.c.checked_at == STATES.c.last_result_at
    )
    return (
        select(
            MONITORS.c.id,
            MONITORS.c.name,
            MONITORS.c.group_name,
            MONITORS.c.type,
            MONITORS.c.public,
            MONITORS.c.paused,
            MONITORS.c.first_result_at,
            STATES.c.state,
            STATES.c.last_result_at,
            STATES.c.last_result_state,
            STATES.c.last_status_code,
            STATES.c.flapping_since,
            RESULTS.c.duration_ms,
            RESULTS.c.cert_expires_at,
        )
        .select_from(
            MONITORS.outerjoin(STATES, STATES.c.monitor_id == MONITORS.c.id).outerjoin(
                RESULTS, latest
            )
        )
        .where(MONITORS.c.archived_at.is_(None))
        .order_by(MONITORS.c.id)
    )


async def monitors_with_latest_result(connection: AsyncConnection) -> list[Row[Any]]:
    """Every live monitor with its state and its latest result's duration and cert expiry."""
    return list(await connection.execute(_monitors_with_latest_result()))


async def open_incident_counts(connection: AsyncConnection) -> dict[str, int]:
    query = (
        select(INCIDENTS.c.monitor_id, func.count())
        .where(INCIDENTS.c.resolved_at.is_(None))
        .group_by(INCIDENTS.c.monitor_id)
    )
    return {m: int(n) for m, n in await connection.execute(query)}
