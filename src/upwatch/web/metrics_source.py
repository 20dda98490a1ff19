"""What one `/metrics` scrape reads: every live monitor with its state, its latest result's
duration and certificate expiry, open incident counts, and uptime inputs. Read per scrape, so the
numbers are never older than the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from upwatch.store.tables import INCIDENTS, MONITORS, RESULTS, STATES
from upwatch.web.views import History, load_history


@dataclass(frozen=True, slots=True)
class MetricsSource:
    rows: list[Row[Any]]  # one per live monitor, public or not (the handler filters)
    open_incidents: dict[str, int]
    history: History


def _monitors_query() -> Any:
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


async def fetch_metrics_source(engine: AsyncEngine, now: datetime) -> MetricsSource:
    open_query = (
        select(INCIDENTS.c.monitor_id, func.count())
        .where(INCIDENTS.c.resolved_at.is_(None))
        .group_by(INCIDENTS.c.monitor_id)
    )
    async with engine.connect() as connection:
        found = list(await connection.execute(_monitors_query()))
        open_incidents = {m: int(n) for m, n in await connection.execute(open_query)}
        history = await load_history(connection, now)
    rows, seen = [], set()
    for row in found:  # two results at the same instant would repeat a monitor: keep one
        if row.id not in seen:
            seen.add(row.id)
            rows.append(row)
    return MetricsSource(rows, open_incidents, history)
