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

from upwatch.config.models import Config, Slo
from upwatch.engine.maintenance import MaintenanceSchedule
from upwatch.engine.slo import SloStatus, bad_intervals, slo_status
from upwatch.engine.uptime import Interval
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


async def slo_statuses(
    connection: AsyncConnection, config: Config, monitor_ids: Sequence[str], now: datetime
) -> dict[str, SloStatus]:
    """Each of `monitor_ids` that has an `slo`, at `now`."""
    wanted = set(monitor_ids)
    slos: dict[str, Slo] = {
        m.id: m.slo for m in config.monitors if m.id in wanted and m.slo is not None
    }
    if not slos:
        return {}
    start = now - max(s.window for s in slos.values())
    histories = await slo_histories(connection, list(slos), start, now)
    windows = MaintenanceSchedule.from_config(config).upcoming(start, now - start)
    found = {}
    for monitor_id, slo in slos.items():
        history = histories.get(monitor_id, SloHistory())
        excluded: list[Interval] = [(s, e or now) for s, e in history.excluded]
        excluded += [(w.starts_at, w.ends_at) for w in windows if w.applies_to(monitor_id)]
        bad = bad_intervals(history.incidents, excluded, now)
        found[monitor_id] = slo_status(slo, bad, now)
    return found
