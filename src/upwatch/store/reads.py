"""Read queries behind the JSON API and the pages. Nothing here writes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.store.incident_updates import Update, monitors_named, updates_of
from upwatch.store.tables import (
    HOURLY,
    INCIDENT_MONITORS,
    INCIDENTS,
    MONITORS,
    PERIODS,
    RESULTS,
    STATES,
)


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


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """An incident row (every column, plus `monitor_name`) with what people wrote on it.

    Reads like the row (`record.started_at`). `monitors` are the monitors a declared incident
    names, `(id, name)`, limited to those the query asked about; a monitor incident has none
    (its monitor is `monitor_id`).
    """

    row: Row[Any]
    updates: tuple[Update, ...] = ()
    monitors: tuple[tuple[str, str], ...] = ()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)

    @property
    def shown_monitor(self) -> tuple[str, str] | None:
        """`(id, name)` the incident is shown under: its monitor, or a declared incident's
        first named monitor; None for a declared incident naming none."""
        if self.row.monitor_id is not None:
            return self.row.monitor_id, self.row.monitor_name
        return self.monitors[0] if self.monitors else None

    @property
    def title(self) -> str:
        """A declared incident's title; a monitor incident is called by its monitor's name."""
        return str(self.row.title or self.row.monitor_name or self.row.monitor_id or "Incident")


async def incident_rows(
    connection: AsyncConnection,
    *,
    monitor_ids: Sequence[str] | None = None,
    since: datetime | None = None,
    open_only: bool = False,
    limit: int = 100,
    unattached: bool = False,
) -> list[IncidentRecord]:
    """Incidents newest first, with their monitor's name and their written updates.

    With `monitor_ids`: the incidents of those monitors and the declared incidents naming any
    of them, plus (`unattached`) the declared incidents naming no monitor at all.
    """
    query = (
        select(INCIDENTS, MONITORS.c.name.label("monitor_name"))
        .join(MONITORS, MONITORS.c.id == INCIDENTS.c.monitor_id, isouter=True)
        .order_by(INCIDENTS.c.started_at.desc(), INCIDENTS.c.id.desc())
        .limit(limit)
    )
    if monitor_ids is not None:
        ids = list(monitor_ids)
        link = INCIDENT_MONITORS.c.incident_id == INCIDENTS.c.id
        named = exists().where(link, INCIDENT_MONITORS.c.monitor_id.in_(ids))
        shown = [INCIDENTS.c.monitor_id.in_(ids), and_(INCIDENTS.c.declared.is_(True), named)]
        if unattached:
            shown.append(and_(INCIDENTS.c.declared.is_(True), ~exists().where(link)))
        query = query.where(or_(*shown))
    else:
        query = query.where(or_(MONITORS.c.id.is_not(None), INCIDENTS.c.declared.is_(True)))
    if since is not None:
        query = query.where(INCIDENTS.c.started_at >= since)
    if open_only:
        query = query.where(INCIDENTS.c.resolved_at.is_(None))
    rows = list(await connection.execute(query))
    return await _records(connection, rows, None if monitor_ids is None else set(monitor_ids))


async def incident_record(connection: AsyncConnection, incident_id: int) -> IncidentRecord | None:
    """One incident, whatever its monitors (for an authenticated answer)."""
    query = (
        select(INCIDENTS, MONITORS.c.name.label("monitor_name"))
        .join(MONITORS, MONITORS.c.id == INCIDENTS.c.monitor_id, isouter=True)
        .where(INCIDENTS.c.id == incident_id)
    )
    found = await _records(connection, list(await connection.execute(query)), None)
    return found[0] if found else None


async def _records(
    connection: AsyncConnection, rows: list[Row[Any]], wanted: set[str] | None
) -> list[IncidentRecord]:
    """`rows` with their updates and (declared) named monitors among `wanted`."""
    updates = await updates_of(connection, [r.id for r in rows])
    named_by = await monitors_named(connection, [r.id for r in rows if r.declared])
    return [
        IncidentRecord(
            r,
            tuple(updates.get(r.id, ())),
            tuple(m for m in named_by.get(r.id, ()) if wanted is None or m[0] in wanted),
        )
        for r in rows
    ]


async def downtime_since(connection: AsyncConnection, start: datetime) -> dict[str, list[Interval]]:
    """Incident intervals per monitor that overlap [start, now)."""
    # Declared incidents have no monitor_id: they are nobody's downtime.
    query = select(INCIDENTS.c.monitor_id, INCIDENTS.c.started_at, INCIDENTS.c.resolved_at).where(
        INCIDENTS.c.monitor_id.is_not(None),
        or_(INCIDENTS.c.resolved_at.is_(None), INCIDENTS.c.resolved_at > start),
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
        .where(INCIDENTS.c.resolved_at.is_(None), INCIDENTS.c.monitor_id.is_not(None))
        .group_by(INCIDENTS.c.monitor_id)
    )
    return {m: int(n) for m, n in await connection.execute(query)}
