"""One prober per monitor across processes: 64 shards, each held by one instance at a time.

A monitor belongs to shard `crc32(id) % 64`. Every instance beats in the instances table and
holds its fair share (64 / live instances, rounded up) of the shards: PostgreSQL advisory locks on
a dedicated connection (not a pooled one, which would keep its locks when returned to the pool;
the locks drop with the connection when a process dies), or kernel byte-range locks on a file
beside an SQLite database (they drop the instant the process dies; see file_locks.py).
A shard that is free (its holder released it or died) is taken at the next step, every 2 s.

Config generations: overlapping deployments may run different configs. An instance that sees a
newer generation with a different config digest, run by a live instance, steps down: it releases
every shard and only serves pages until it exits. Instances running the same config share the
shards. (A newer deployment that dies before it beats does not leave nobody probing.)
"""

from __future__ import annotations

import asyncio
import math
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import asyncpg
import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from upwatch.engine.phase import SHARDS
from upwatch.runtime.database_errors import is_contention
from upwatch.store import leases
from upwatch.store.generations import newest_live_digest

log = structlog.get_logger("upwatch.coordination")
STEP_SECONDS = 2.0
LIVE_WITHIN = timedelta(seconds=10)
EXPECT_FOR = timedelta(seconds=15)  # how long siblings started together are waited for
ShardsGained = Callable[[set[int]], Awaitable[None]]
# forced=True: the shards were taken away (a lock connection dropped, a lease expired) and
# another instance may already evaluate them; False: given back after this instance is done.
ShardsLost = Callable[[set[int], bool], Awaitable[None]]
# What the database or the lock connection may raise while unreachable: the step is skipped and
# retried; held shards stay held (probing goes on, the pipeline holds results back).
UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


def _failed(exc: BaseException, unreachable: bool) -> bool:
    """Log a failed step once per outage; whether the database is unreachable now."""
    if is_contention(exc):  # SQLite busy with another writer: the next step, quietly
        log.debug("coordination step skipped: database busy")
        return unreachable
    if not unreachable:
        log.warning("coordination paused: database unreachable", error=type(exc).__name__)
    return True


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `stop` is set meanwhile (a loop's step then ends at once)."""
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        pass


class ShardLocks(Protocol):
    def live(self, counted: int) -> int:
        """How many instances share the shards, given how many beat recently."""
        ...

    async def take(self, shard: int, now: datetime) -> bool: ...

    async def keep(self, held: set[int], now: datetime) -> set[int]: ...

    async def give_back(self, shard: int) -> None: ...

    async def confirmed(
        self, connection: AsyncConnection, held: set[int], now: datetime
    ) -> bool: ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class Generation:
    id: int
    digest: str


class Coordinator:
    def __init__(
        self,
        engine: AsyncEngine,
        locks: ShardLocks,
        *,
        instance: str,
        generation: Generation,
        clock: Callable[[], datetime],
        on_gain: ShardsGained,
        on_lose: ShardsLost,
        expected: int = 1,
        region: str = "default",
        leader: Coordinator | None = None,
    ) -> None:
        self.engine = engine
        self.locks = locks
        self.instance = instance
        self.generation = generation
        self.clock = clock
        self.on_gain = on_gain
        self.on_lose = on_lose
        self.started = clock()
        # Workers started together count on each other from the start: the first one up
        # takes its share, not all 64 (to hand half back seconds later, with every state loaded
        # twice), unless the others are still not there after EXPECT_FOR.
        self.expected = expected
        # The global coordinator (no leader) beats for the instance, in its `region`, and
        # follows config generations; a regional one only shares its region's shard space with
        # the live instances of that region (monitors that list regions are probed per region).
        self.region = region
        self.leader = leader  # set for a regional coordinator: the instance's global one
        self.held: set[int] = set()
        self.stepped_down = False
        start = zlib.crc32(instance.encode()) % SHARDS
        self.order = [(start + i) % SHARDS for i in range(SHARDS)]  # spread first picks

    async def run(self, stop: asyncio.Event) -> None:
        """Step every STEP_SECONDS until `stop`; an unreachable database skips a step."""
        unreachable = False
        while not stop.is_set():
            try:
                await self.step()
            except UNREACHABLE as exc:
                unreachable = _failed(exc, unreachable)
            else:
                if unreachable:
                    log.info("coordination resumed")
                unreachable = False
            await pause(stop, STEP_SECONDS)

    @property
    def regional(self) -> bool:
        return self.leader is not None

    async def confirmed(self, connection: AsyncConnection, now: datetime) -> bool:
        """Whether this instance surely holds every shard it thinks it holds, for as long as
        `connection`'s transaction lasts: results are judged (and incidents announced) only
        then."""
        return await self.locks.confirmed(connection, self.held, now)

    async def step(self) -> None:
        """Beat, keep what is held, give back the excess, take free shards up to the share."""
        if self.stepped_down:
            return
        if self.leader is not None and self.leader.stepped_down:
            await self._give_back(set(self.held))  # a newer config runs: probe nothing here
            return
        now = self.clock()
        # One generation for the whole step: a reload may adopt a new one meanwhile, and the
        # beat and the comparison must agree on which this instance runs.
        generation = self.generation
        async with self.engine.begin() as connection:
            newer = False
            if not self.regional:
                # Beat first: this instance's own generation counts among the live ones.
                await leases.beat(
                    connection, self.instance, generation.id, self.started, now, region=self.region
                )
                newer = await self._superseded(connection, generation, now)
            space = self.region if self.regional else None
            counted = await leases.live_instances(connection, now, LIVE_WITHIN, space)
            live = self.locks.live(counted)
        if now - self.started < EXPECT_FOR:
            live = max(live, self.expected)
        if newer and self.generation is generation:  # else reloaded since: newest again
            await self.step_down("a newer config generation is running")
            return
        kept = await self.locks.keep(self.held, now)
        if kept != self.held:
            lost = self.held - kept
            log.warning("shards lost", shards=sorted(lost))
            self.held = kept
            await self.on_lose(lost, True)
        await self._rebalance(math.ceil(SHARDS / live), now)

    @staticmethod
    async def _superseded(
        connection: AsyncConnection, generation: Generation, now: datetime
    ) -> bool:
        newest = await newest_live_digest(connection, now, LIVE_WITHIN)
        return newest is not None and newest != generation.digest

    async def _rebalance(self, share: int, now: datetime) -> None:
        excess = sorted(self.held, key=self.order.index)[share:]
        if excess:
            await self._give_back(set(excess))
        gained: set[int] = set()
        for shard in self.order:
            if len(self.held) + len(gained) >= share:
                break
            if shard not in self.held and await self.locks.take(shard, now):
                gained.add(shard)
        if gained:
            self.held |= gained
            try:
                await self.on_gain(gained)
            except BaseException:
                await self._give_back(gained)  # could not load their state: let another try
                raise

    async def _give_back(self, shards: set[int]) -> None:
        if not shards:
            return
        self.held -= shards
        await self.on_lose(shards, False)  # stop and flush before anyone else can take them
        for shard in shards:
            try:
                await self.locks.give_back(shard)
            except UNREACHABLE as exc:  # the lease expires, or the lock drops with its connection
                log.warning("could not release a shard", shard=shard, error=type(exc).__name__)

    def adopt(self, generation: Generation) -> None:
        """This instance reloaded its config: it is the newest generation now."""
        self.generation = generation
        if self.stepped_down:
            log.info("newest config generation again: taking shards")
        self.stepped_down = False

    async def step_down(self, why: str) -> None:
        """Give every shard back and leave the live list, so the newest generation's instances
        share all 64 at once."""
        log.warning("stepping down: releasing every shard, serving pages only", reason=why)
        self.stepped_down = True
        await self._withdraw()

    async def _withdraw(self) -> None:
        await self._give_back(set(self.held))
        if self.regional:
            return  # the global coordinator owns the instance's row
        async with self.engine.begin() as connection:
            await leases.leave(connection, self.instance)

    async def leave(self) -> None:
        """On shutdown: release everything and remove this instance from the live list."""
        await self._withdraw()
        await self.locks.close()
