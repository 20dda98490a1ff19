"""What SLOs are computed from: each monitor's incidents and paused or archived periods that
overlap a window, read in one query for any number of monitors.

An SLO window is up to 400 days, longer than the status page's 90, so this reads its own rows
rather than the board's history. Incidents and periods are both few per monitor (one row per
outage or pause, never per result), so a 400-day read stays small; the incidents are found
through `ix_incidents_monitor_started`. Maintenance is not stored: the engine subtracts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.store.tables import INCIDENTS, PERIODS

OpenSpan = tuple[datetime, datetime | None]  # no end yet: still open


@dataclass(frozen=True, slots=True)
class SloHistory:
    """One monitor's bad-time inputs: incidents (open ones without an end) and the paused or
    archived periods that do not count against it."""

    incidents: list[OpenSpan] = field(default_factory=list)
    excluded: list[OpenSpan] = field(default_factory=list)


async def slo_histories(
    connection: AsyncConnection, monitor_ids: Sequence[str], start: datetime, now: datetime
) -> dict[str, SloHistory]:
    """Incidents and paused/archived periods of `monitor_ids` overlapping `[start, now)`;
    monitors with neither are absent."""
    if not monitor_ids:
        return {}
    ids = list(monitor_ids)
    incidents = select(
        INCIDENTS.c.monitor_id,
        INCIDENTS.c.started_at.label("start"),
        INCIDENTS.c.resolved_at.label("end"),
        literal(True).label("bad"),
    ).where(
        INCIDENTS.c.monitor_id.in_(ids),
        INCIDENTS.c.started_at < now,
        or_(INCIDENTS.c.resolved_at.is_(None), INCIDENTS.c.resolved_at > start),
    )
    periods = select(
        PERIODS.c.monitor_id,
        PERIODS.c.started_at.label("start"),
        PERIODS.c.ended_at.label("end"),
        literal(False).label("bad"),
    ).where(
        PERIODS.c.monitor_id.in_(ids),
        PERIODS.c.started_at < now,
        or_(PERIODS.c.ended_at.is_(None), PERIODS.c.ended_at > start),
    )
    found: dict[str, SloHistory] = {}
    for row in await connection.execute(union_all(incidents, periods)):
        history = found.setdefault(row.monitor_id, SloHistory())
        (history.incidents if row.bad else history.excluded).append((row.start, row.end))
    return found
