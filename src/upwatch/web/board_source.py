"""The rows a `Board` is built from, fetched in one connection: current state and incident
intervals, never raw results (the page must stay fast with a thousand monitors)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from upwatch.config.models import Config
from upwatch.store import reads
from upwatch.web.status import public_rows
from upwatch.web.views import History, load_history

HISTORY_DAYS = 7  # "Past incidents" lists this many days
HISTORY_LIMIT = 500
OPEN_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class BoardSource:
    rows: list[Row[Any]]  # public, live monitors in config order
    history: History  # incident and paused/archived intervals of the last 90 days
    open_incidents: list[Row[Any]]
    recent_incidents: list[Row[Any]]  # started within HISTORY_DAYS, newest first


async def fetch_board_source(engine: AsyncEngine, config: Config, now: datetime) -> BoardSource:
    async with engine.connect() as connection:
        rows = public_rows(await reads.live_monitors(connection), config)
        ids = [r.id for r in rows]
        history = await load_history(connection, now)
        open_incidents = await reads.incident_rows(
            connection, monitor_ids=ids, open_only=True, limit=OPEN_LIMIT
        )
        recent = await reads.incident_rows(
            connection,
            monitor_ids=ids,
            since=now - timedelta(days=HISTORY_DAYS + 1),
            limit=HISTORY_LIMIT,
        )
    return BoardSource(rows, history, open_incidents, recent)
