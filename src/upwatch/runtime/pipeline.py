"""From probe results to the database: buffered, batched, and safe through a database outage.

Probes hand results to `submit`, which never waits. A flush (at least every second) writes the
batch and evaluates it in order, in one transaction: results, rollups, state transitions,
incidents and outbox rows commit together or not at all. When the database is unreachable the
batch stays buffered (bounded; overflow drops the oldest and is counted), nothing transitions and
nothing is sent; when it is back the buffer is written and evaluated with the results' own times.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from upwatch.probes.result import ProbeResult, ProbeState
from upwatch.runtime.database_errors import is_contention
from upwatch.store.checkins import HandedCheckin
from upwatch.store.results import write_results
from upwatch.store.rollups import RollupCache

log = structlog.get_logger("upwatch.pipeline")


@dataclass(frozen=True, slots=True)
class Observation:
    """Something that happened to a monitor: a probe result or a heartbeat check-in."""

    monitor_id: str
    result: ProbeResult
    checkin: bool = False
    # The region that probed, for a monitor that lists regions: stored as that region's result
    # and judged by the monitor's holder only through the regions' vote.
    region: str | None = None


class _NotOurs(Exception):
    """The shards could not be confirmed inside the transaction: roll it back."""


def checkin_observation(checkin: HandedCheckin) -> Observation:
    """A heartbeat check-in as an observation: judged like a result, in arrival order."""
    state = ProbeState.UP if checkin.ok else ProbeState.DOWN
    cause = None if checkin.ok else "reported failure"
    result = ProbeResult(state, checkin.received_at, 0.0, cause=cause, public_cause=cause)
    return Observation(checkin.monitor_id, result, checkin=True)


class Evaluator(Protocol):
    """Turns observations into state changes inside the pipeline's transaction."""

    async def evaluate(
        self, connection: AsyncConnection, batch: Sequence[Observation], now: datetime
    ) -> list[tuple[str, ProbeResult]]: ...

    @property
    def first_results(self) -> dict[str, datetime]: ...

    @property
    def rollups(self) -> RollupCache: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class Pipeline:
    def __init__(
        self,
        engine: AsyncEngine,
        evaluator: Evaluator,
        clock: Callable[[], datetime],
        *,
        max_buffer: int = 200_000,
        batch_size: int = 5_000,
        interval: float = 1.0,
        gate: Callable[[AsyncConnection, datetime], Awaitable[bool]] | None = None,
    ) -> None:
        self.engine = engine
        self.evaluator = evaluator
        self.clock = clock
        self.buffer: deque[Observation] = deque()
        self.max_buffer = max_buffer
        self.batch_size = batch_size
        self.interval = interval
        self.dropped = 0
        self.written = 0
        self.database_up = True
        self.wakeup = asyncio.Event()
        # Asked first in each transaction: may this process judge what it holds (its shards are
        # surely still its own, for the whole transaction)? If not, the transaction is rolled
        # back and results wait in the buffer, like in a database outage.
        self.gate = gate
        self.confirmed = True
        # Backpressure: past `batch_size` buffered results while the database answers, probing
        # waits until a flush brings the buffer under half of it. On a machine that cannot keep
        # up, the writer then still gets its turn (results keep being stored, intervals stretch)
        # instead of probes flooding the loop until nothing is written at all.
        self.has_room = asyncio.Event()
        self.has_room.set()
        # Held while a transaction uses the evaluator; reconciling (start, SIGHUP) and shard
        # hand-overs take it too, so their staged changes never mix with a flush's.
        self.lock = asyncio.Lock()

    def submit(self, observation: Observation) -> None:
        self.buffer.append(observation)
        self._trim()
        if len(self.buffer) >= self.batch_size:
            self.wakeup.set()
            self._update_room()

    async def room(self) -> None:
        """Wait while the writer is behind (not during an outage: then results are buffered)."""
        await self.has_room.wait()

    def _update_room(self) -> None:
        # In an outage probing goes on (results are buffered); behind a slow writer, or while the
        # shards are unconfirmed, it waits.
        behind = len(self.buffer) > self.batch_size // 2
        if behind and self.database_up:
            self.has_room.clear()
        else:
            self.has_room.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Flush every `interval` seconds (sooner when a batch fills) until `stop` is set."""
        while not stop.is_set():
            try:
                async with asyncio.timeout(self.interval):
                    await self.wakeup.wait()
            except TimeoutError:
                pass
            self.wakeup.clear()
            await self.flush()

    async def flush(self) -> bool:
        """Write and evaluate everything buffered, batch by batch; False if the database failed.

        Runs at least one (maybe empty) transaction, which is when escalations and heartbeat
        deadlines fall due. A batch leaves the buffer while it commits and goes back to its
        front if the commit fails, so nothing is lost and order is kept.
        """
        while True:
            batch = [self.buffer.popleft() for _ in range(min(len(self.buffer), self.batch_size))]
            try:
                committed = await self._commit(batch)
            except BaseException:  # cancelled mid-commit (shutdown): keep the batch, in order
                self.evaluator.rollback()
                self._put_back(batch)
                raise
            if not committed:
                self._put_back(batch)
                self._update_room()
                return False
            self._update_room()
            if not self.buffer:
                return True

    def _put_back(self, batch: list[Observation]) -> None:
        self.buffer.extendleft(reversed(batch))
        self._trim()

    def _trim(self) -> None:
        while len(self.buffer) > self.max_buffer:
            self.buffer.popleft()
            self.dropped += 1

    async def _commit(self, batch: list[Observation]) -> bool:
        async with self.lock:
            return await self._commit_locked(batch)

    async def _commit_locked(self, batch: list[Observation]) -> bool:
        now = self.clock()
        try:
            async with self.engine.begin() as connection:
                if self.gate is not None and not await self.gate(connection, now):
                    raise _NotOurs
                rows = await self.evaluator.evaluate(connection, batch, now)
                await write_results(
                    connection, rows, self.evaluator.first_results, self.evaluator.rollups
                )
        except _NotOurs:
            self.evaluator.rollback()
            self._unconfirmed()
            return False
        except (SQLAlchemyError, OSError) as exc:
            self.evaluator.rollback()
            if is_contention(exc):  # another writer was busy: the next flush tries again
                log.debug("database busy: flush retried", buffered=len(self.buffer))
            else:
                self._database_down(exc)
            return False
        self.confirmed = True
        self.evaluator.commit()
        self.written += len(rows)
        if not self.database_up:
            log.info("database is back", buffered=len(self.buffer))
            self.database_up = True
        return True

    def _unconfirmed(self) -> None:
        if self.confirmed:
            log.warning(
                "shards not surely ours any more: holding results back until that is settled",
                buffered=len(self.buffer),
            )
        self.confirmed = False

    def _database_down(self, exc: BaseException) -> None:
        if self.database_up:
            log.error(
                "database unreachable: buffering results, no state changes until it is back",
                error=type(exc).__name__,
            )
        self.database_up = False

    async def drain(self, seconds: float) -> None:
        """On shutdown: write everything buffered. It keeps going while batches commit (an
        overloaded writer is slow, not gone: every finished probe is stored) and gives up only
        when the database is unreachable or nothing commits for `seconds`."""
        loop = asyncio.get_running_loop()
        progress_at = loop.time()
        while True:
            before = len(self.buffer)
            try:
                async with asyncio.timeout(max(0.0, progress_at + seconds - loop.time())):
                    await self.flush()
            except TimeoutError:
                pass
            if not self.buffer:
                return
            if len(self.buffer) < before:
                progress_at = loop.time()
            elif not self.database_up or loop.time() >= progress_at + seconds:
                log.warning("shutdown: results left unwritten", count=len(self.buffer))
                return
