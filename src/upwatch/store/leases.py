"""Shard leases on SQLite and the live-instance table both backends use.

SQLite has no advisory locks, so a shard is a lease row (`shard:N`) with a holder and an expiry,
claimed by an atomic conditional UPDATE: the holder renews it; anyone may take it once expired.
The instances table is how each process learns how many are alive, for its fair share.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.store.tables import INSTANCES, LEASES
from upwatch.store.upsert import insert_ignore, upsert


def shard_name(shard: int) -> str:
    return f"shard:{shard}"


async def claim(
    connection: AsyncConnection, shard: int, holder: str, now: datetime, ttl: timedelta
) -> bool:
    """Take or renew the lease on `shard`; True when `holder` has it until now + ttl."""
    name = shard_name(shard)
    row = {"name": name, "holder": holder, "acquired_at": now, "expires_at": now + ttl}
    if await insert_ignore(connection, LEASES, [row], ["name"]):
        return True
    statement = (
        update(LEASES)
        .where(LEASES.c.name == name, or_(LEASES.c.holder == holder, LEASES.c.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
    )
    result = await connection.execute(statement)
    return (result.rowcount or 0) == 1


async def renew(
    connection: AsyncConnection, shards: set[int], holder: str, now: datetime, ttl: timedelta
) -> set[int]:
    """Extend `holder`'s leases on `shards` to now + ttl; return those it still holds.

    Two statements whatever the number of shards: under load every await is slow, and a write
    transaction that awaits often holds SQLite's single write lock for long.
    """
    names = {shard_name(shard): shard for shard in shards}
    mine = (LEASES.c.holder == holder, LEASES.c.name.in_(list(names)))
    await connection.execute(update(LEASES).where(*mine).values(expires_at=now + ttl))
    rows = await connection.execute(select(LEASES.c.name).where(*mine))
    return {names[name] for name in rows.scalars()}


async def release(connection: AsyncConnection, shard: int, holder: str) -> None:
    statement = delete(LEASES).where(LEASES.c.name == shard_name(shard), LEASES.c.holder == holder)
    await connection.execute(statement)


async def release_all(connection: AsyncConnection, holder: str) -> None:
    await connection.execute(delete(LEASES).where(LEASES.c.holder == holder))


async def beat(
    connection: AsyncConnection, instance: str, generation: int, started: datetime, now: datetime
) -> None:
    """Record that `instance` is alive now."""
    row = {"name": instance, "generation": generation, "started_at": started, "last_seen_at": now}
    await upsert(connection, INSTANCES, [row], ["name"], ["generation", "last_seen_at"])


async def live_instances(connection: AsyncConnection, now: datetime, within: timedelta) -> int:
    """How many instances beat within `within` (at least 1: the caller is alive)."""
    query = select(func.count()).where(INSTANCES.c.last_seen_at >= now - within)
    return max(1, int((await connection.execute(query)).scalar_one()))


async def leave(connection: AsyncConnection, instance: str) -> None:
    await connection.execute(delete(INSTANCES).where(INSTANCES.c.name == instance))
    await release_all(connection, instance)
