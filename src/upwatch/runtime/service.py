"""The monitoring service: reconcile, take shards, evaluate, schedule probes, write results.

Owns the long-lived pieces (prober, evaluator, pipeline, scheduler, coordinator) and their order
of start and stop. The daemon around it owns the process: signals, HTTP, health and the watchdog.

A monitor is probed and evaluated only by the instance holding its shard. The
service starts holding nothing: the coordinator takes shards within its first step, and only
then are their monitors' states loaded and their probes scheduled, so a standby never
re-announces an open incident.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from upwatch.config.loader import LoadedConfig
from upwatch.config.models import MonitorBase
from upwatch.engine.phase import shard_of
from upwatch.probes.prober import Prober
from upwatch.probes.result import ProbeResult
from upwatch.runtime.coordination import STEP_SECONDS, UNREACHABLE, Coordinator, pause
from upwatch.runtime.database_errors import is_contention
from upwatch.runtime.evaluator import Evaluator
from upwatch.runtime.health import Health
from upwatch.runtime.holdings import Holdings
from upwatch.runtime.load import ScheduleLoad
from upwatch.runtime.locks import shard_locks
from upwatch.runtime.pipeline import Observation, Pipeline, checkin_observation
from upwatch.runtime.region_watch import RegionWatch, listed_regions
from upwatch.runtime.scheduler import ProbeScheduler
from upwatch.store.checkins import HandedCheckin
from upwatch.store.retention import prune

log = structlog.get_logger("upwatch.service")
PRUNE_EVERY = timedelta(minutes=10)
PRUNE_BREATH = 0.05  # seconds between two batches of deletes


class MonitoringService:
    def __init__(
        self,
        engine: AsyncEngine,
        loaded: LoadedConfig,
        *,
        instance: str,
        health: Health,
        clock: Callable[[], datetime],
        prober: Prober | None = None,
        siblings: int = 1,
        region: str = "default",
        source_address: str | None = None,
    ) -> None:
        self.region = region  # where this instance probes from
        self.siblings = siblings  # worker processes started with this one (they share shards)
        self.engine = engine
        self.loaded = loaded
        self.instance = instance
        self.health = health
        self.clock = clock
        self.prober = prober or Prober(source_address=source_address)
        self.evaluator = Evaluator(loaded)
        self.pipeline = Pipeline(engine, self.evaluator, clock, gate=self._owning)
        self.scheduler = ProbeScheduler(
            self.prober, self._submit, clock=clock, admit=self.pipeline.room
        )
        self.holdings = Holdings(
            engine,
            self.pipeline,
            self.evaluator,
            loaded,
            instance=instance,
            clock=clock,
            held=lambda: self.held,
            region=region,
            probing=lambda: set() if self.regional is None else self.regional.held,
        )
        self.coordinator: Coordinator | None = None
        self.regional: Coordinator | None = None  # this region's shards, once regions are used
        self.region_watch = RegionWatch(
            engine, region, clock=clock, config=lambda: self.loaded.config
        )
        self.background: set[asyncio.Task[None]] = set()
        self.stop_event = asyncio.Event()
        self.flusher: asyncio.Task[None] | None = None
        self.coordinating: asyncio.Task[None] | None = None
        self.pruner: asyncio.Task[None] | None = None

    @property
    def held(self) -> set[int]:
        return set() if self.coordinator is None else self.coordinator.held

    @property
    def serving_only(self) -> bool:
        """A newer config generation runs elsewhere: this instance only serves pages."""
        return self.coordinator is not None and self.coordinator.stepped_down

    def listed_regions(self) -> list[str]:
        return listed_regions(self.loaded.config)

    def live_regions(self) -> frozenset[str] | None:
        """Regions with a live instance; None while the config lists no regions."""
        return None if self.regional is None else self.region_watch.beating

    @property
    def load(self) -> ScheduleLoad:
        return self.scheduler.load

    def _submit(self, monitor: MonitorBase, result: ProbeResult) -> None:
        region = self.region if monitor.regions else None
        redacted = result.redacted(self.loaded.redact)
        self.pipeline.submit(Observation(monitor.id, redacted, region=region))

    def check_in(self, monitor_id: str, at: datetime, ok: bool) -> None:
        """A heartbeat check-in from the web: judged here in arrival order if this instance
        holds the monitor, else handed to the instance that does (through the database)."""
        self.pipeline.submit(checkin_observation(HandedCheckin(monitor_id, at, ok)))

    async def _owning(self, connection: AsyncConnection, now: datetime) -> bool:
        return self.coordinator is None or await self.coordinator.confirmed(connection, now)

    # ---- start and reload -------------------------------------------------------------------

    async def start(self) -> None:
        generation = await self.holdings.reconcile(self.loaded)
        self.scheduler.add_ticker(self.health.tick, timedelta(seconds=1))
        self.scheduler.start([])
        self.flusher = asyncio.create_task(self.pipeline.run(self.stop_event))
        self.coordinator = Coordinator(
            self.engine,
            shard_locks(self.engine),
            instance=self.instance,
            generation=generation,
            clock=self.clock,
            on_gain=self._gain,
            on_lose=self._lose,
            expected=self.siblings,
            region=self.region,  # its beat says where this instance probes from
        )
        self.coordinating = asyncio.create_task(self.coordinator.run(self.stop_event))
        self.pruner = asyncio.create_task(self._prune_forever())
        await self._use_regions()
        log.info("monitoring", monitors=len(self.loaded.config.monitors), region=self.region)

    async def _use_regions(self) -> None:
        """Once the config lists regions: share this region's shard space and watch which
        regions are live (a config without regions runs exactly as before regions existed)."""
        if self.regional is not None or self.coordinator is None:
            return
        if not any(m.regions for m in self.loaded.config.monitors):
            return
        self.regional = Coordinator(
            self.engine,
            shard_locks(self.engine, self.region),
            instance=self.instance,
            generation=self.coordinator.generation,
            clock=self.clock,
            on_gain=self._gain_regional,
            on_lose=self._lose_regional,
            expected=self.siblings,
            region=self.region,
            leader=self.coordinator,
        )
        try:
            await self.region_watch.step()
            await self.region_watch.warn_unknown()
        except UNREACHABLE as exc:
            log.warning("could not read the regions yet", error=type(exc).__name__)
        self._spawn(self.regional.run(self.stop_event))
        self._spawn(self._watch_regions())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def _watch_regions(self) -> None:
        while not self.stop_event.is_set():
            self.evaluator.live_regions = self.region_watch.live
            try:
                await self.region_watch.step()
            except UNREACHABLE as exc:
                if not is_contention(exc):
                    log.debug("region step skipped", error=type(exc).__name__)
            await pause(self.stop_event, STEP_SECONDS)

    async def reload(self, loaded: LoadedConfig) -> None:
        """Apply a new config (SIGHUP): same ids keep their history and state."""
        generation = await self.holdings.reload(loaded)
        self.loaded = loaded
        if self.coordinator is not None:
            self.coordinator.adopt(generation)
        await self._use_regions()
        self.scheduler.sync(self.holdings.owned(), failing=self.evaluator.failing())

    # ---- shards -----------------------------------------------------------------------------

    async def _gain(self, shards: set[int]) -> None:
        # Under the pipeline's lock, so a reload cannot change the config meanwhile. If loading
        # fails, the coordinator gives the shards back, which releases whatever was loaded.
        count = await self.holdings.take(shards)
        self.scheduler.sync(self.holdings.owned(), failing=self.evaluator.failing())
        log.info("shards taken", shards=sorted(shards), monitors=count, held=len(self.held))

    async def _lose(self, shards: set[int], forced: bool) -> None:
        """Stop probing `shards`; judge what was probed if they were given back (not taken
        away, when another instance may already judge them), then forget their states."""
        await self._stop_probing(forced)
        async with self.pipeline.lock:
            self.evaluator.release([m for m in self.evaluator.states if shard_of(m) in shards])
        log.info("shards released", shards=sorted(shards), forced=forced, held=len(self.held))

    async def _stop_probing(self, forced: bool) -> None:
        """Probe only what is still held; unless the shards were taken away (another instance
        may already have them), store what was probed first."""
        if not self.scheduler.stopping:
            self.scheduler.sync(self.holdings.owned())
        if not forced:
            try:
                await self.pipeline.flush()
            except UNREACHABLE:
                log.warning("could not write results before giving shards back")

    async def _gain_regional(self, shards: set[int]) -> None:
        self.scheduler.sync(self.holdings.owned())
        log.info("region shards taken", region=self.region, shards=sorted(shards))

    async def _lose_regional(self, shards: set[int], forced: bool) -> None:
        """Stop probing this region's `shards`; store what was probed before another takes
        them (their results are this region's votes, whoever evaluates)."""
        await self._stop_probing(forced)
        log.info("region shards released", region=self.region, shards=sorted(shards), forced=forced)

    # ---- background -------------------------------------------------------------------------

    async def _prune_forever(self) -> None:
        """Retention: prune a minute after start, then every PRUNE_EVERY."""
        await asyncio.sleep(60)
        while True:
            retention = self.loaded.config.retention
            try:
                pruned = await prune(
                    self.engine, self.clock(), retention.raw, retention.rollups, self._yield
                )
            except (OSError, SQLAlchemyError) as exc:
                if not is_contention(exc):  # busy is not a failure: the next round goes on
                    log.warning("retention pruning failed; will retry", error=type(exc).__name__)
            else:
                if pruned.results or pruned.rollups or pruned.outbox:
                    log.info("pruned old rows", **asdict(pruned))
            await asyncio.sleep(PRUNE_EVERY.total_seconds())

    async def _yield(self) -> None:
        """Between two batches of pruning: the result writer first, and a breath for probes."""
        await self.pipeline.room()
        await asyncio.sleep(PRUNE_BREATH)

    async def stop(self, grace: float = 3.0) -> None:
        """Stop probing, let in-flight probes finish (or cancel them), write what is left,
        give the shards back."""
        if self.pruner is not None:
            self.pruner.cancel()
        await self.scheduler.shutdown(grace)
        self.stop_event.set()
        self.pipeline.wakeup.set()
        if self.coordinating is not None:
            await _finish(self.coordinating, 1.0)
        for task in list(self.background):
            await _finish(task, 1.0)
        answering = self.flusher is None or await _finish(self.flusher, grace)
        # A writer stuck past `grace` means the database is not answering: one short last try.
        await self.pipeline.drain(grace if answering else 0.5)
        if self.regional is not None and answering:
            await self._leave(self.regional)
        if self.coordinator is not None and answering:
            await self._leave(self.coordinator)
        await self.prober.aclose()

    async def _leave(self, coordinator: Coordinator) -> None:
        try:
            async with asyncio.timeout(2.0):
                await coordinator.leave()
        except UNREACHABLE as exc:  # leases expire, locks drop with us (TimeoutError included)
            log.warning("could not release shards at exit", error=type(exc).__name__)


async def _finish(task: asyncio.Task[None], seconds: float) -> bool:
    """Let `task` end within `seconds`, else cancel it (False): a flush can hang on a silent
    database."""
    done, late = await asyncio.wait({task}, timeout=seconds)
    for pending in late:
        pending.cancel()
        await asyncio.wait({pending}, timeout=0.5)
    for finished in done:
        if not finished.cancelled() and finished.exception() is not None:
            log.error("background task failed", exc_info=finished.exception())
    return not late
