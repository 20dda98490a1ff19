"""Probe scheduling with APScheduler 3: each monitor on its interval, at a phase fixed by its id.

IntervalTrigger anchored at the monitor's phase computes fire times as anchor + k * interval, so
there is no drift; APScheduler's jitter would accumulate and is not used. While the last result
was down the monitor runs every min(retry_interval, interval). `max_instances=1` means one
monitor never has two probes in flight, and a semaphore bounds how many probes run at once so a
slow target holds only its own slot. Results go to `submit`, which never waits on the database.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from upwatch.config.models import HeartbeatMonitor, MonitorBase
from upwatch.engine.phase import next_fire
from upwatch.probes.prober import Prober
from upwatch.probes.result import ProbeResult
from upwatch.runtime.load import ScheduleLoad

log = structlog.get_logger("upwatch.scheduler")
Submit = Callable[[MonitorBase, ProbeResult], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ProbeScheduler:
    def __init__(
        self,
        prober: Prober,
        submit: Submit,
        *,
        concurrency: int = 500,
        clock: Callable[[], datetime] = _utcnow,
        admit: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.prober = prober
        self.submit = submit
        self.clock = clock
        self.admit = admit  # waits while results are not being written fast enough
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.slots = asyncio.Semaphore(concurrency)
        self.monitors: dict[str, MonitorBase] = {}
        self.retrying: set[str] = set()
        self.in_flight: set[asyncio.Task[None]] = set()
        self.stopping = False
        self.load = ScheduleLoad()
        self.grids: dict[str, tuple[float, float]] = {}  # id: (first slot, interval), epoch s
        self.last_slot: dict[str, float] = {}

    def start(self, monitors: Iterable[MonitorBase], failing: Iterable[str] = ()) -> None:
        """Schedule `monitors`; those in `failing` start on their retry interval."""
        self.retrying = set(failing)
        self.sync(monitors)
        self.scheduler.start()

    def add_ticker(self, func: Callable[[], object], every: timedelta) -> None:
        """Run `func` every `every`, the first time as soon as the scheduler runs."""
        self.scheduler.add_job(
            func,
            IntervalTrigger(seconds=every.total_seconds()),
            next_run_time=self.clock(),
            id="__ticker__",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            replace_existing=True,
        )

    def sync(self, monitors: Iterable[MonitorBase], failing: Iterable[str] = ()) -> None:
        """Match the jobs to `monitors` (when shards move and on every reload); monitors new
        here that are in `failing` start on their retry interval."""
        wanted = {m.id: m for m in monitors if self._probed(m)}
        for monitor_id in set(self.monitors) - set(wanted):
            self._remove(monitor_id)
        self.retrying |= {m for m in failing if m in wanted and m not in self.monitors}
        for monitor_id, monitor in wanted.items():
            old = self.monitors.get(monitor_id)
            self.monitors[monitor_id] = monitor
            if old is not monitor:
                self.prober.prepare(monitor)
            if (
                old is None
                or old.interval != monitor.interval
                or old.retry_interval != (monitor.retry_interval)
            ):
                self._schedule(monitor)

    @staticmethod
    def _probed(monitor: MonitorBase) -> bool:
        return not monitor.paused and not isinstance(monitor, HeartbeatMonitor)

    def _schedule(self, monitor: MonitorBase) -> None:
        now = self.clock()
        if monitor.id in self.retrying:
            every = monitor.effective_retry_interval
            start = now + every
        else:
            every = monitor.interval
            start = next_fire(monitor.id, every, now)
        trigger = IntervalTrigger(seconds=every.total_seconds(), start_date=start, timezone=UTC)
        self.grids[monitor.id] = (start.timestamp(), every.total_seconds())
        self.last_slot.pop(monitor.id, None)  # a new grid: skips count from its first slot
        self.scheduler.add_job(
            self._run,
            trigger,
            args=[monitor.id],
            id=monitor.id,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )

    def _remove(self, monitor_id: str) -> None:
        self.monitors.pop(monitor_id, None)
        self.retrying.discard(monitor_id)
        self.grids.pop(monitor_id, None)
        self.last_slot.pop(monitor_id, None)
        if self.scheduler.get_job(monitor_id) is not None:
            self.scheduler.remove_job(monitor_id)

    async def _run(self, monitor_id: str) -> None:
        monitor = self.monitors.get(monitor_id)
        if monitor is None or self.stopping:
            return
        task = asyncio.current_task()
        if task is not None:
            self.in_flight.add(task)
        try:
            if self.admit is not None:
                await self.admit()
            async with self.slots:
                self._account(monitor_id)
                result = await self.prober.probe(monitor)
        except asyncio.CancelledError:
            if self.stopping:
                return  # cancelled at shutdown after the grace: expected, not an error
            raise
        finally:
            if task is not None:
                self.in_flight.discard(task)
        self.submit(monitor, result)
        self._follow(monitor, result)

    def _account(self, monitor_id: str) -> None:
        """Lag behind the slot this probe stands for, and the slots skipped since the last."""
        grid = self.grids.get(monitor_id)
        if grid is None:
            return
        start, every = grid
        now = self.clock().timestamp()
        slot = start + max(0, math.floor((now - start) / every)) * every
        last = self.last_slot.get(monitor_id)
        skipped = 0 if last is None else max(0, round((slot - last) / every) - 1)
        self.last_slot[monitor_id] = slot
        self.load.observe(max(0.0, now - slot), skipped, now)

    def _follow(self, monitor: MonitorBase, result: ProbeResult) -> None:
        """Switch to the retry interval when a monitor starts failing, and back when it stops."""
        failing = result.is_down
        if failing == (monitor.id in self.retrying) or self.stopping:
            return
        if failing:
            self.retrying.add(monitor.id)
        else:
            self.retrying.discard(monitor.id)
        if monitor.effective_retry_interval != monitor.interval:
            self._schedule(monitor)

    async def shutdown(self, grace: float) -> None:
        """Stop scheduling; give in-flight probes `grace` seconds, then cancel them."""
        self.stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        pending = set(self.in_flight)
        if pending:
            _done, late = await asyncio.wait(pending, timeout=grace)
            for task in late:
                task.cancel()
