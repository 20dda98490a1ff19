"""Config generations: every start or reload records one; the most recently started one wins."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.store.tables import GENERATIONS, INSTANCES


async def record_generation(
    connection: AsyncConnection, digest: str, instance: str, monitors: int, now: datetime
) -> int:
    values = {"digest": digest, "instance": instance, "started_at": now, "monitors": monitors}
    result = await connection.execute(GENERATIONS.insert().returning(GENERATIONS.c.id), values)
    return int(result.scalar_one())


async def newest_live_digest(
    connection: AsyncConnection, now: datetime, within: timedelta
) -> str | None:
    """The config digest of the most recently started generation that an instance still runs
    (beat within `within`): a newer deployment that crashed before its first beat, or since,
    does not make the running ones step down and leave nobody probing."""
    query = (
        select(GENERATIONS.c.digest)
        .join(INSTANCES, INSTANCES.c.generation == GENERATIONS.c.id)
        .where(INSTANCES.c.last_seen_at >= now - within)
        .order_by(GENERATIONS.c.id.desc())
        .limit(1)
    )
    value = (await connection.execute(query)).scalar()
    return None if value is None else str(value)
