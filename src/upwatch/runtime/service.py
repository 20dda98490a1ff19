"""The monitoring service: reconcile, evaluate, schedule probes, write results.

Owns the long-lived pieces (prober, evaluator, pipeline, scheduler) and their order of start and
stop. The daemon around it owns the process: signals, HTTP, health and the watchdog.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from upwatch.config.loader import LoadedConfig
from upwatch.config.models import MonitorBase
from upwatch.probes.prober import Prober
from upwatch.probes.result import ProbeResult, ProbeState
from upwatch.runtime.evaluator import Evaluator
from upwatch.runtime.health import Health
from upwatch.runtime.pipeline import Observation, Pipeline
from upwatch.runtime.scheduler import ProbeScheduler
from upwatch.store.generations import record_generation
from upwatch.store.monitors import Reconciled, reconcile
from upwatch.store.retention import prune

log = structlog.get_logger("upwatch.service")
PRUNE_EVERY = timedelta(minutes=10)


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
    ) -> None:
        self.engine = engine
        self.loaded = loaded
        self.instance = instance
        self.health = health
        self.clock = clock
        self.prober = prober or Prober()
        self.evaluator = Evaluator(loaded)
        self.pipeline = Pipeline(engine, self.evaluator, clock)
        self.scheduler = ProbeScheduler(self.prober, self._submit, clock=clock)
        self.stop_event = asyncio.Event()
        self.flusher: asyncio.Task[None] | None = None
        self.pruner: asyncio.Task[None] | None = None

    def _submit(self, monitor: MonitorBase, result: ProbeResult) -> None:
        self.pipeline.submit(Observation(monitor.id, result))

    def check_in(self, monitor_id: str, at: datetime, ok: bool) -> None:
        """A heartbeat check-in from the web: judged like a result, in arrival order."""
        state = ProbeState.UP if ok else ProbeState.DOWN
        cause = None if ok else "reported failure"
        result = ProbeResult(state, at, 0.0, cause=cause, public_cause=cause)
        self.pipeline.submit(Observation(monitor_id, result, checkin=True))

    async def start(self) -> None:
        await self._reconcile(self.loaded, first=True)
        self.scheduler.add_ticker(self.health.tick, timedelta(seconds=1))
        self.scheduler.start(self.loaded.config.monitors, failing=self.evaluator.failing())
        self.flusher = asyncio.create_task(self.pipeline.run(self.stop_event))
        self.pruner = asyncio.create_task(self._prune_forever())
        log.info("monitoring", monitors=len(self.loaded.config.monitors))

    async def _reconcile(self, loaded: LoadedConfig, *, first: bool) -> None:
        async with self.pipeline.lock:
            try:
                changes = await self._reconcile_locked(loaded, first=first)
            except BaseException:
                self.evaluator.rollback()  # nothing staged may leak into the next flush
                raise
            self.evaluator.commit()
        self._report(changes)

    async def _reconcile_locked(self, loaded: LoadedConfig, *, first: bool) -> Reconciled:
        now = self.clock()
        config = loaded.config
        async with self.engine.begin() as connection:
            generation = await record_generation(
                connection, loaded.digest, self.instance, len(config.monitors), now
            )
            changes = await reconcile(
                connection, config, now, redact=loaded.redact, generation=generation
            )
            wanted = [m.id for m in config.monitors]
            new = wanted if first else [*changes.created, *changes.restored]
            await self.evaluator.take(connection, [*new, *changes.archived])
            await self.evaluator.apply_lifecycle(connection, changes, now)
        return changes

    def _report(self, changes: Reconciled) -> None:
        self.evaluator.release(changes.archived)
        if changes.created or changes.archived or changes.paused or changes.resumed:
            log.info(
                "monitors reconciled",
                created=len(changes.created),
                archived=len(changes.archived),
                paused=len(changes.paused),
                resumed=len(changes.resumed),
                restored=len(changes.restored),
            )

    async def reload(self, loaded: LoadedConfig) -> None:
        """Apply a new config (SIGHUP): same ids keep their history and state."""
        await self.pipeline.flush()  # judge what was probed under the old config first
        await self._reconcile(loaded, first=False)
        self.evaluator.set_config(loaded)
        self.loaded = loaded
        self.scheduler.sync(loaded.config.monitors)

    async def _prune_forever(self) -> None:
        """Retention: prune a minute after start, then every PRUNE_EVERY."""
        await asyncio.sleep(60)
        while True:
            retention = self.loaded.config.retention
            try:
                pruned = await prune(self.engine, self.clock(), retention.raw, retention.rollups)
            except (OSError, SQLAlchemyError) as exc:
                log.warning("retention pruning failed; will retry", error=type(exc).__name__)
            else:
                if pruned.results or pruned.rollups or pruned.outbox:
                    log.info("pruned old rows", **asdict(pruned))
            await asyncio.sleep(PRUNE_EVERY.total_seconds())

    async def stop(self, grace: float = 3.0) -> None:
        """Stop probing, let in-flight probes finish (or cancel them), write what is left."""
        if self.pruner is not None:
            self.pruner.cancel()
        await self.scheduler.shutdown(grace)
        self.stop_event.set()
        self.pipeline.wakeup.set()
        answering = self.flusher is None or await _finish(self.flusher, grace)
        # A writer stuck past `grace` means the database is not answering: one short last try.
        await self.pipeline.drain(grace if answering else 0.5)
        await self.prober.aclose()


async def _finish(task: asyncio.Task[None], seconds: float) -> bool:
    """Let `task` end within `seconds`, else cancel it (False): a flush can hang on a silent
    database."""
    done, late = await asyncio.wait({task}, timeout=seconds)
    for pending in late:
        pending.cancel()
        await asyncio.wait({pending}, timeout=0.5)
    for finished in done:
        if not finished.cancelled() and finished.exception() is not None:
            log.error("result writer failed", exc_info=finished.exception())
    return not late
