"""Falling behind schedule is measured, warned about once, and shown on /metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from structlog.testing import capture_logs

from tests.store_helpers import config, http
from upwatch.config.models import MonitorBase
from upwatch.probes.prober import Prober
from upwatch.probes.result import ProbeResult, ProbeState
from upwatch.runtime.load import WINDOW_SECONDS, ScheduleLoad
from upwatch.runtime.scheduler import ProbeScheduler

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
WARNING = (
    "probing falls behind schedule: every monitor's interval is stretched; "
    "lengthen intervals, or add CPUs (one worker each) or an instance"
)


def window(load: ScheduleLoad, start: float, lags: list[float], skipped: int = 0) -> float:
    """Feed one window of probes starting at `start`; return when it ended."""
    step = WINDOW_SECONDS / len(lags)
    for i, lag in enumerate(lags):
        load.observe(lag, skipped if i == 0 else 0, start + i * step)
    return start + WINDOW_SECONDS


def test_a_late_window_warns_once_and_a_punctual_one_ends_it() -> None:
    load = ScheduleLoad()
    with capture_logs() as logs:
        t = window(load, 0.0, [0.01] * 100)
        t = window(load, t, [0.01] * 100)
        assert not load.overloaded
        t = window(load, t, [0.01] * 98 + [2.5, 3.0])  # p99 crosses 1 s
        t = window(load, t, [1.5] * 100)
        assert load.overloaded
        assert load.p99_lag == 2.5  # of the last complete window
        t = window(load, t, [0.02] * 100)
        t = window(load, t, [0.02] * 100)
    events = [e["event"] for e in logs]
    assert events == [WARNING, "probing is back on schedule"]
    assert not load.overloaded
    assert load.late == 102


def test_a_skipped_slot_alone_is_overload() -> None:
    load = ScheduleLoad()
    t = window(load, 0.0, [0.01] * 10)
    window(load, t, [0.01] * 10, skipped=1)
    window(load, t + WINDOW_SECONDS, [0.01] * 10)
    assert load.overloaded
    assert load.skipped == 1


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def never_probe(_monitor: MonitorBase, _result: ProbeResult) -> None:
    raise AssertionError("not run in this test")


def test_the_scheduler_counts_lag_from_the_monitor_s_slot_and_the_slots_it_skipped() -> None:
    clock = Clock()
    loaded = config(http("api", interval="10s"))
    scheduler = ProbeScheduler(Prober(), never_probe, clock=clock)
    scheduler.sync(loaded.config.monitors)  # jobs are only computed: the scheduler is not started
    start, every = scheduler.grids["api"]
    first = datetime.fromtimestamp(start, UTC)

    clock.now = first + timedelta(milliseconds=40)
    scheduler._account("api")
    clock.now = first + timedelta(seconds=30, milliseconds=200)  # slots +10 s and +20 s skipped
    scheduler._account("api")

    load: Any = scheduler.load
    assert every == 10.0
    assert (load.probes, load.skipped, load.late) == (2, 2, 0)
    assert round(load._window[-1], 3) == 0.2


def test_a_probe_started_a_hair_before_its_slot_is_on_time_not_an_interval_late() -> None:
    clock = Clock()
    loaded = config(http("api", interval="30s"))
    scheduler = ProbeScheduler(Prober(), never_probe, clock=clock)
    scheduler.sync(loaded.config.monitors)
    start, _every = scheduler.grids["api"]
    first = datetime.fromtimestamp(start, UTC)

    clock.now = first - timedelta(milliseconds=1)  # the timer woke a millisecond early
    scheduler._account("api")
    clock.now = first + timedelta(seconds=30, milliseconds=-1)
    scheduler._account("api")

    load: Any = scheduler.load
    assert (load.probes, load.skipped, load.late) == (2, 0, 0)
    assert max(load._window) < 0.01


def test_retries_count_from_when_the_failing_probe_started_not_when_it_timed_out() -> None:
    clock = Clock()
    loaded = config(http("api", interval="30s", timeout="10s", retry_interval="20s"))
    scheduler = ProbeScheduler(Prober(), never_probe, clock=clock)
    scheduler.sync(loaded.config.monitors)
    (monitor,) = loaded.config.monitors
    started = T0
    clock.now = started + timedelta(seconds=10)  # the answer is a timeout, 10 s after the start
    timed_out = ProbeResult(ProbeState.DOWN, started, 10.0, cause="timed out after 10s")
    scheduler._follow(monitor, timed_out)
    start, every = scheduler.grids["api"]
    # So three failures are confirmed 40 s after the first probe began, as the docs promise.
    assert datetime.fromtimestamp(start, UTC) == started + timedelta(seconds=20)
    assert every == 20.0
