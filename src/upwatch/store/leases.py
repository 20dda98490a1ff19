"""The live-instance table: how each process learns how many are alive, for its fair share.

(Shards themselves are held by PostgreSQL advisory locks or, on SQLite, kernel locks on a file
beside the database: `runtime/locks.py`. The `leases` table of the first schema is unused.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.store.tables import INSTANCES
from upwatch.store.upsert import upsert


async def beat(
    connection: AsyncConnection,
    instance: str,
    generation: int,
    started: datetime,
    now: datetime,
    *,
    region: str = "default",
) -> None:
    """Record that `instance` (probing from `region`) is alive now."""
    row = {
        "name": instance,
        "generation": generation,
        "started_at": started,
        "last_seen_at": now,
        "region": region,
    }
    await upsert(connection, INSTANCES, [row], ["name"], ["generation", "last_seen_at", "region"])


async def live_instances(
    connection: AsyncConnection, now: datetime, within: timedelta, region: str | None = None
) -> int:
    """How many instances (of `region`, if given) beat within `within` (at least 1: the caller
    is alive)."""
    query = select(func.count()).where(INSTANCES.c.last_seen_at >= now - within)
    if region is not None:
        query = query.where(INSTANCES.c.region == region)
    return max(1, int((await connection.execute(query)).scalar_one()))


async def leave(connection: AsyncConnection, instance: str) -> None:
    await connection.execute(delete(INSTANCES).where(INSTANCES.c.name == instance))
