"""Config generations: every start or reload records one; the most recently started one wins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.store.tables import GENERATIONS


async def record_generation(
    connection: AsyncConnection, digest: str, instance: str, monitors: int, now: datetime
) -> int:
    values = {"digest": digest, "instance": instance, "started_at": now, "monitors": monitors}
    result = await connection.execute(GENERATIONS.insert().returning(GENERATIONS.c.id), values)
    return int(result.scalar_one())


async def newest_digest(connection: AsyncConnection) -> str | None:
    """The config digest of the most recently started generation."""
    query = select(GENERATIONS.c.digest).order_by(GENERATIONS.c.id.desc()).limit(1)
    value = (await connection.execute(query)).scalar()
    return None if value is None else str(value)
