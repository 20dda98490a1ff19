"""Pruning old rows in small batches, so a prune never holds the write lock for long.

Raw results (and finished outbox rows with their attempts) are kept `retention.raw`; hourly and
daily rollups `retention.rollups`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from upwatch.store.checkins import STRANDED_AFTER
from upwatch.store.tables import ATTEMPTS, CHECKINS, DAILY, HOURLY, INSTANCES, OUTBOX, RESULTS

BATCH = 2_000
Pause = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Pruned:
    results: int
    rollups: int
    outbox: int


async def _no_pause() -> None:
    return None


async def _prune_batches(
    engine: AsyncEngine,
    table: Table,
    key: ColumnElement[object],
    where: ColumnElement[bool],
    pause: Pause,
) -> int:
    """Delete matching rows, BATCH at a time, each batch its own short transaction, with
    `pause` awaited before each (the daemon lets probing and the result writer go first)."""
    total = 0
    while True:
        await pause()
        async with engine.begin() as connection:
            ids = select(key).where(where).limit(BATCH).scalar_subquery()
            result = await connection.execute(delete(table).where(key.in_(ids)))
        count = result.rowcount or 0
        total += count
        if count < BATCH:
            return total


async def prune(
    engine: AsyncEngine,
    now: datetime,
    raw: timedelta,
    rollups: timedelta,
    pause: Pause = _no_pause,
) -> Pruned:
    raw_cut, rollup_cut = now - raw, now - rollups

    async def _prune(table: Table, key: ColumnElement[object], where: ColumnElement[bool]) -> int:
        return await _prune_batches(engine, table, key, where, pause)

    results = await _prune(RESULTS, RESULTS.c.id, RESULTS.c.checked_at < raw_cut)
    finished = or_(
        OUTBOX.c.delivered_at < raw_cut,
        OUTBOX.c.failed_at < raw_cut,
        OUTBOX.c.cancelled_at < raw_cut,
    )
    old_ids = select(OUTBOX.c.id).where(finished)
    await _prune(ATTEMPTS, ATTEMPTS.c.id, ATTEMPTS.c.outbox_id.in_(old_ids))
    outbox = await _prune(OUTBOX, OUTBOX.c.id, finished)
    hourly = await _prune(HOURLY, HOURLY.c.bucket, HOURLY.c.bucket < rollup_cut)
    daily = await _prune(DAILY, DAILY.c.bucket, DAILY.c.bucket < rollup_cut)
    # Bookkeeping of coordination: check-ins nobody took, instances gone for a day.
    stale = now - STRANDED_AFTER
    await _prune(CHECKINS, CHECKINS.c.id, CHECKINS.c.received_at < stale)
    await _prune(INSTANCES, INSTANCES.c.name, INSTANCES.c.last_seen_at < stale)
    return Pruned(results, hourly + daily, outbox)
