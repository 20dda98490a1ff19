"""Heartbeat check-ins handed between instances.

A check-in may arrive at any instance (the load balancer picks one), but only the instance
holding the monitor's shard evaluates it. Any other instance writes it here; the holder takes
it in its next flush's transaction, so it is evaluated once, or not removed at all.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.store.tables import CHECKINS

TAKE_AT_MOST = 5_000
STRANDED_AFTER = timedelta(days=1)  # its monitor left every running config: pruned


@dataclass(frozen=True, slots=True)
class HandedCheckin:
    monitor_id: str
    received_at: datetime
    ok: bool


async def hand_over(connection: AsyncConnection, checkins: list[HandedCheckin]) -> None:
    rows = [
        {"monitor_id": c.monitor_id, "received_at": c.received_at, "ok": c.ok} for c in checkins
    ]
    if rows:
        await connection.execute(CHECKINS.insert(), rows)


async def take_handed(
    connection: AsyncConnection, evaluated_here: Container[str]
) -> list[HandedCheckin]:
    """Remove and return the check-ins for monitors evaluated here, oldest first.

    The table holds only check-ins in transit (normally none), so reading all of it is cheap.
    """
    query = select(CHECKINS).order_by(CHECKINS.c.id).limit(TAKE_AT_MOST)
    rows = [r for r in await connection.execute(query) if r.monitor_id in evaluated_here]
    if rows:
        await connection.execute(delete(CHECKINS).where(CHECKINS.c.id.in_([r.id for r in rows])))
    return [HandedCheckin(r.monitor_id, r.received_at, bool(r.ok)) for r in rows]
