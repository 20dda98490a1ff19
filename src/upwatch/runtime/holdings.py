"""What this process evaluates, and under which config: applying a config and taking shards.

Each change runs in one transaction under the pipeline's lock, so what it stages in the
evaluator becomes its state only when the transaction commits (and is dropped if it fails), and
a flush never sees a config half applied. The monitoring service drives it on start, SIGHUP and
shard moves; the store tests drive the very same code with a clock of their own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from upwatch.config.loader import LoadedConfig
from upwatch.config.models import MonitorBase
from upwatch.engine.phase import in_shards, shard_of
from upwatch.runtime.coordination import Generation
from upwatch.runtime.evaluator import Evaluator
from upwatch.runtime.pipeline import Pipeline
from upwatch.store.generations import record_generation
from upwatch.store.monitors import Reconciled, archived_with_open_incident, lifecycles, reconcile

log = structlog.get_logger("upwatch.service")
T = TypeVar("T")
# Work in a transaction that loads monitors: its result, and the archived monitors it resolved.
Loading = Callable[[AsyncConnection], Awaitable[tuple[T, list[str]]]]


class Holdings:
    def __init__(
        self,
        engine: AsyncEngine,
        pipeline: Pipeline,
        evaluator: Evaluator,
        loaded: LoadedConfig,
        *,
        instance: str,
        clock: Callable[[], datetime],
        held: Callable[[], set[int]],
        region: str = "default",
        probing: Callable[[], set[int]] = set,
    ) -> None:
        self.engine = engine
        self.pipeline = pipeline
        self.evaluator = evaluator
        self.loaded = loaded
        self.instance = instance
        self.clock = clock
        self.held = held  # the shards this process holds now (it evaluates their monitors)
        self.region = region
        self.probing = probing  # the shards of this region's space held (monitors with regions)

    def owned(self) -> list[MonitorBase]:
        """The monitors this process probes: those without regions in the shards held, and
        those listing this region in the shards of this region's space held."""
        monitors = self.loaded.config.monitors
        plain = [m for m in in_shards(monitors, self.held()) if not m.regions]
        regional = [m for m in monitors if m.regions and self.region in m.regions]
        return [*plain, *in_shards(regional, self.probing())]

    async def reconcile(self, loaded: LoadedConfig) -> Generation:
        """Write the config's monitors and record its generation; then bring the monitors this
        process holds up to date (new ones loaded, paused or removed ones resolved)."""

        async def record(
            connection: AsyncConnection,
        ) -> tuple[tuple[Generation, Reconciled], list[str]]:
            recorded = await record_config(connection, loaded, self.instance, self.clock())
            return recorded, await self._load(connection, loaded.config.monitors, self.held())

        generation, changes = await self._in_transaction(record)
        _report(changes)
        return generation

    async def reload(self, loaded: LoadedConfig) -> Generation:
        """Apply a new config (SIGHUP): same ids keep their history and state."""
        await self.pipeline.flush()  # judge what was probed under the old config first
        generation = await self.reconcile(loaded)
        self.evaluator.set_config(loaded)
        self.loaded = loaded
        return generation

    async def take(self, shards: set[int]) -> int:
        """Start evaluating the monitors of `shards` (already counted as held); returns how
        many. If loading fails the caller gives the shards back, which releases what loaded."""

        async def load(connection: AsyncConnection) -> tuple[int, list[str]]:
            monitors = self.loaded.config.monitors
            archived = await self._load(connection, monitors, shards)
            return len(in_shards(monitors, shards)), archived

        return await self._in_transaction(load)

    async def _in_transaction(self, work: Loading[T]) -> T:
        """`work` in one transaction, under the pipeline's lock. The archived monitors it
        returns were loaded only to be resolved: let go once committed."""
        async with self.pipeline.lock:
            try:
                async with self.engine.begin() as connection:
                    done, archived = await work(connection)
            except BaseException:
                self.evaluator.rollback()  # nothing staged may leak into the next flush
                raise
            self.evaluator.commit()
            self.evaluator.release(archived)
        return done

    async def _load(
        self, connection: AsyncConnection, monitors: Iterable[MonitorBase], shards: set[int]
    ) -> list[str]:
        monitor_ids = [m.id for m in in_shards(monitors, shards)]
        return await load_held(connection, self.evaluator, monitor_ids, shards, self.clock())


async def record_config(
    connection: AsyncConnection, loaded: LoadedConfig, instance: str, now: datetime
) -> tuple[Generation, Reconciled]:
    """Record a generation of `loaded` and write its monitors (same id = same history)."""
    config = loaded.config
    generation_id = await record_generation(
        connection, loaded.digest, instance, len(config.monitors), now
    )
    changes = await reconcile(
        connection, config, now, redact=loaded.redact, generation=generation_id
    )
    return Generation(generation_id, loaded.digest), changes


async def load_held(
    connection: AsyncConnection,
    evaluator: Evaluator,
    monitor_ids: list[str],
    shards: set[int],
    now: datetime,
) -> list[str]:
    """Have `evaluator` judge `monitor_ids` (of `shards`) from now on, resuming from the
    database and catching up on pausing and archiving; also the archived monitors of `shards`
    whose incident is still open, which are resolved here and returned (to be released once
    committed)."""
    if not shards:
        return []
    archived = [m for m in await archived_with_open_incident(connection) if shard_of(m) in shards]
    wanted = [*monitor_ids, *archived]
    await evaluator.take(connection, [m for m in wanted if m not in evaluator.states])
    await evaluator.catch_up(connection, await lifecycles(connection, wanted), now)
    return archived


def _report(changes: Reconciled) -> None:
    if changes.created or changes.archived or changes.paused or changes.resumed:
        log.info(
            "monitors reconciled",
            created=len(changes.created),
            archived=len(changes.archived),
            paused=len(changes.paused),
            resumed=len(changes.resumed),
            restored=len(changes.restored),
        )
