"""The two ways to hold a shard: PostgreSQL advisory locks, or SQLite lease rows."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import structlog
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from upwatch.runtime.coordination import LEASE_TTL, ShardLocks
from upwatch.store import leases

log = structlog.get_logger("upwatch.locks")
LOCK_CLASS = 0x7570  # advisory lock namespace for shards ("up"); migrations use another key


class PgAdvisoryLocks:
    """Session advisory locks on one dedicated connection, opened outside the pool.

    If the connection drops, PostgreSQL releases every lock it held; `keep` notices and reports
    all shards lost, so this process stops probing them at once.
    """

    def __init__(self, url: URL) -> None:
        query = dict(url.query)
        if "ssl" in query:  # asyncpg's DSN parser speaks libpq: sslmode
            query["sslmode"] = query.pop("ssl")
        plain = url.set(drivername="postgresql", query=query)
        self.dsn = plain.render_as_string(hide_password=False)
        self.connection: asyncpg.Connection | None = None

    async def _connection(self) -> asyncpg.Connection:
        if self.connection is None or self.connection.is_closed():
            self.connection = await asyncpg.connect(self.dsn, timeout=10)
        return self.connection

    async def take(self, shard: int, now: datetime) -> bool:
        connection = await self._connection()
        taken = await connection.fetchval("SELECT pg_try_advisory_lock($1, $2)", LOCK_CLASS, shard)
        return bool(taken)

    async def keep(self, held: set[int], now: datetime) -> set[int]:
        if not held:
            return held
        try:
            if self.connection is None or self.connection.is_closed():
                return set()
            await self.connection.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            log.error("lost the lock connection: every shard is released")
            self.connection = None
            return set()
        return held

    async def give_back(self, shard: int) -> None:
        if self.connection is not None and not self.connection.is_closed():
            await self.connection.execute("SELECT pg_advisory_unlock($1, $2)", LOCK_CLASS, shard)

    async def close(self) -> None:
        if self.connection is not None and not self.connection.is_closed():
            await self.connection.close()


class SqliteLeases:
    """Lease rows with an expiry: renewed every step, taken over once expired."""

    def __init__(self, engine: AsyncEngine, holder: str) -> None:
        self.engine = engine
        self.holder = holder

    async def take(self, shard: int, now: datetime) -> bool:
        async with self.engine.begin() as connection:
            return await leases.claim(connection, shard, self.holder, now, LEASE_TTL)

    async def keep(self, held: set[int], now: datetime) -> set[int]:
        kept: set[int] = set()
        async with self.engine.begin() as connection:
            for shard in held:
                if await leases.claim(connection, shard, self.holder, now, LEASE_TTL):
                    kept.add(shard)
        return kept

    async def give_back(self, shard: int) -> None:
        async with self.engine.begin() as connection:
            await leases.release(connection, shard, self.holder)

    async def close(self) -> None:
        return None


def shard_locks(engine: AsyncEngine, holder: str) -> ShardLocks:
    if engine.dialect.name == "postgresql":
        return PgAdvisoryLocks(engine.url)
    return SqliteLeases(engine, holder)
