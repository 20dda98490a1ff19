"""The rows a `Board` is built from, fetched in one connection: current state, incident
intervals and hourly rollups, never raw results (the page must stay fast with a thousand
monitors)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from upwatch.config.models import Config
from upwatch.store import reads
from upwatch.store.latency_window import LatencyWindow
from upwatch.store.reads import IncidentRecord
from upwatch.store.rollups import Rollup
from upwatch.web.views import History, load_history

HISTORY_DAYS = 7  # "Past incidents" lists this many days
HISTORY_LIMIT = 500
OPEN_LIMIT = 1000


def public_rows(rows: list[Row[Any]], config: Config) -> list[Row[Any]]:
    """Public monitors in the order the config lists them."""
    order = {m.id: i for i, m in enumerate(config.monitors)}
    shown = [r for r in rows if r.public]
    return sorted(shown, key=lambda r: (order.get(r.id, len(order)), r.id))


@dataclass(frozen=True, slots=True)
class BoardSource:
    rows: list[Row[Any]]  # public, live monitors in config order
    history: History  # incident and paused/archived intervals of the last 90 days
    open_incidents: list[IncidentRecord]
    recent_incidents: list[IncidentRecord]  # started within HISTORY_DAYS, newest first
    latency: dict[str, Rollup]  # hourly rollups of the last 24 hours, merged per monitor


async def fetch_board_source(
    engine: AsyncEngine, config: Config, now: datetime, latency: LatencyWindow
) -> BoardSource:
    async with engine.connect() as connection:
        rows = public_rows(await reads.live_monitors(connection), config)
        ids = [r.id for r in rows]
        history = await load_history(connection, now)
        open_incidents = await reads.incident_rows(
            connection, monitor_ids=ids, open_only=True, limit=OPEN_LIMIT, unattached=True
        )
        recent = await reads.incident_rows(
            connection,
            monitor_ids=ids,
            since=now - timedelta(days=HISTORY_DAYS + 1),
            limit=HISTORY_LIMIT,
            unattached=True,
        )
        merged = await latency.read(connection, now)
    return BoardSource(rows, history, open_incidents, recent, merged)
