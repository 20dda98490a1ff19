"""The two ways to hold a shard: PostgreSQL advisory locks, or kernel locks beside SQLite."""

from __future__ import annotations

import asyncio
import zlib
from datetime import datetime

import asyncpg
import structlog
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from upwatch.runtime.coordination import ShardLocks
from upwatch.runtime.file_locks import FileShardLocks, lock_path

log = structlog.get_logger("upwatch.locks")
LOCK_CLASS = 0x7570  # advisory lock namespace for shards ("up"); migrations use another key
TRY_LOCK = "SELECT pg_try_advisory_lock($1, $2)"
UNLOCK = "SELECT pg_advisory_unlock($1, $2)"
CONNECT_TIMEOUT = 10.0
CALL_TIMEOUT = 5.0


class PgAdvisoryLocks:
    """Session advisory locks on one dedicated connection, opened outside the pool.

    If the connection drops, PostgreSQL releases every lock it held; `keep` notices and reports
    all shards lost, so this process stops probing them at once.
    """

    def __init__(self, url: URL, lock_class: int = LOCK_CLASS) -> None:
        self.lock_class = lock_class
        query = dict(url.query)
        if "ssl" in query:  # asyncpg's DSN parser speaks libpq: sslmode
            query["sslmode"] = query.pop("ssl")
        plain = url.set(drivername="postgresql", query=query)
        self.dsn = plain.render_as_string(hide_password=False)
        self.connection: asyncpg.Connection | None = None
        self.mutex = asyncio.Lock()  # one asyncpg connection runs one statement at a time

    async def _connection(self) -> asyncpg.Connection:
        if self.connection is None or self.connection.is_closed():
            self.connection = await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT)
        return self.connection

    def live(self, counted: int) -> int:
        return counted  # instances on several machines: the heartbeat table is all there is

    async def take(self, shard: int, now: datetime) -> bool:
        async with self.mutex:
            connection = await self._connection()
            taken = await connection.fetchval(
                TRY_LOCK, self.lock_class, shard, timeout=CALL_TIMEOUT
            )
            return bool(taken)

    async def keep(self, held: set[int], now: datetime) -> set[int]:
        """`held` while the connection lives; after it dropped (and PostgreSQL released every
        lock with it), whichever of them could be taken again on a new connection."""
        if not held:
            return held
        async with self.mutex:
            if await self._alive():
                return held
            log.warning("the lock connection dropped: taking the shards again")
            self.connection = None
            connection = await self._connection()  # raises while the database is unreachable
            kept = set()
            for shard in held:
                if await connection.fetchval(
                    TRY_LOCK, self.lock_class, shard, timeout=CALL_TIMEOUT
                ):
                    kept.add(shard)
            return kept

    async def confirmed(self, connection: AsyncConnection, held: set[int], now: datetime) -> bool:
        """True while the lock connection answers; raises ConnectionError when it does not
        (the locks are gone with it, or about to be: it is a database outage to the caller)."""
        if not held:
            return True
        async with self.mutex:
            if not await self._alive():
                raise ConnectionError("the connection holding the shard locks is gone")
        return True

    async def _alive(self) -> bool:
        if self.connection is None or self.connection.is_closed():
            return False
        try:
            await self.connection.fetchval("SELECT 1", timeout=CALL_TIMEOUT)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            self.connection.terminate()  # whatever it held is gone or about to be
            return False
        return True

    async def give_back(self, shard: int) -> None:
        async with self.mutex:
            if self.connection is not None and not self.connection.is_closed():
                await self.connection.execute(UNLOCK, self.lock_class, shard, timeout=CALL_TIMEOUT)

    async def close(self) -> None:
        if self.connection is not None and not self.connection.is_closed():
            await self.connection.close(timeout=CALL_TIMEOUT)


def shard_locks(engine: AsyncEngine, region: str | None = None) -> ShardLocks:
    """The locks of the global shard space, or of `region`'s (each region probes its
    monitors: its own 64 shards, on their own lock keys or their own lock file)."""
    if engine.dialect.name == "postgresql":
        return PgAdvisoryLocks(engine.url, region_class(region))
    path = lock_path(engine)
    if path is not None and region is not None:
        path = path.with_name(f"{path.name}-{region}")
    return FileShardLocks(path)


def region_class(region: str | None) -> int:
    """The advisory lock namespace of a region's shards: a signed 32-bit key from its name,
    never the global one's."""
    if region is None:
        return LOCK_CLASS
    key = zlib.crc32(f"upwatch-region:{region}".encode())
    key = key - (1 << 32) if key >= 1 << 31 else key
    return key if key != LOCK_CLASS else key + 1
