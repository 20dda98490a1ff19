"""Config generations: every start or reload records one; the most recently started one wins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.store.tables import GENERATIONS


async def record_generation(
    connection: AsyncConnection, digest: str, instance: str, monitors: int, now: datetime
) -> int:
    values = {"digest": digest, "instance": instance, "started_at": now, "monitors": monitors}
    result = await connection.execute(GENERATIONS.insert().returning(GENERATIONS.c.id), values)
    return int(result.scalar_one())


async def newest_generation(connection: AsyncConnection) -> int | None:
    found = await connection.execute(select(func.max(GENERATIONS.c.id)))
    value = found.scalar()
    return None if value is None else int(value)
