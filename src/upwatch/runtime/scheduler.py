"""Probe scheduling: each monitor on its interval, at a phase fixed by its id.

Slots are anchor + k * interval on one timer of our own (`slot_timer.py`), so there is no drift
and a late slot runs once (coalesced). While the last result was down the monitor runs every
min(retry_interval, interval). A monitor never has two probes in flight (a slot that comes while
one runs is skipped, and counted), and a semaphore bounds how many probes run at once so a slow
target holds only its own slot. Results go to `submit`, which never waits on the database.
APScheduler keeps the once-a-second ticker (and time-of-day work elsewhere).
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
from upwatch.runtime.slot_timer import SlotTimer

log = structlog.get_logger("upwatch.scheduler")
Submit = Callable[[MonitorBase, ProbeResult], None]
EARLY = 0.05  # seconds before a slot that still count as that slot
PROBE_CONCURRENCY = 500  # probes running at once, at most (the descriptor budget counts on it)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ProbeScheduler:
    def __init__(
        self,
        prober: Prober,
        submit: Submit,
        *,
        concurrency: int = PROBE_CONCURRENCY,
        clock: Callable[[], datetime] = _utcnow,
        admit: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.prober = prober
        self.submit = submit
        self.clock = clock
        self.admit = admit  # waits while results are not being written fast enough
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.timer = SlotTimer(self._due, lambda: self.clock().timestamp())
        self.running: set[str] = set()
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
        self.timer.start()

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

    def _schedule(self, monitor: MonitorBase, *, failed_at: datetime | None = None) -> None:
        now = self.clock()
        if monitor.id in self.retrying:
            every = monitor.effective_retry_interval
            # Retries count from when the failing probe started, not from when its answer (or
            # its timeout) came: a probe that times out after 10 s is retried 20 s after it
            # began, so an outage is confirmed within interval + (threshold - 1) x retry.
            start = max(now, (failed_at or now) + every)
        else:
            every = monitor.interval
            start = next_fire(monitor.id, every, now)
        self.grids[monitor.id] = (start.timestamp(), every.total_seconds())
        self.last_slot.pop(monitor.id, None)  # a new grid: skips count from its first slot
        self.timer.plan(monitor.id, start.timestamp(), every.total_seconds())

    def _remove(self, monitor_id: str) -> None:
        self.monitors.pop(monitor_id, None)
        self.retrying.discard(monitor_id)
        self.grids.pop(monitor_id, None)
        self.last_slot.pop(monitor_id, None)
        self.timer.cancel(monitor_id)

    def _due(self, monitor_id: str) -> None:
        """A slot came: probe, unless this monitor's last probe is still running."""
        if monitor_id in self.running or self.stopping:
            return  # counted as skipped when the next probe accounts for its slot
        self.running.add(monitor_id)
        task = asyncio.get_running_loop().create_task(self._run(monitor_id))
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)

    async def _run(self, monitor_id: str) -> None:
        try:
            await self._probe(monitor_id)
        except Exception:  # a bug of ours, never the target's doing: say so, keep probing
            log.exception("probe crashed", monitor=monitor_id)
        finally:
            self.running.discard(monitor_id)

    async def _probe(self, monitor_id: str) -> None:
        monitor = self.monitors.get(monitor_id)
        if monitor is None or self.stopping:
            return
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
        self.submit(monitor, result)
        self._follow(monitor, result)

    def _account(self, monitor_id: str) -> None:
        """Lag behind the slot this probe stands for, and the slots skipped since the last."""
        grid = self.grids.get(monitor_id)
        if grid is None:
            return
        start, every = grid
        now = self.clock().timestamp()
        # The timer may start a probe a hair before its slot (timer granularity, slots fired
        # together): that probe stands for the coming slot, not one interval late for the last.
        slot = start + max(0, math.floor((now + EARLY - start) / every)) * every
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
            self._schedule(monitor, failed_at=result.checked_at if failing else None)

    async def shutdown(self, grace: float) -> None:
        """Stop scheduling; give in-flight probes `grace` seconds, then cancel them."""
        self.stopping = True
        self.timer.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        pending = set(self.in_flight)
        if pending:
            _done, late = await asyncio.wait(pending, timeout=grace)
            for task in late:
                task.cancel()
