"""Heartbeat (push) monitors: check-ins as results, and deadlines that pass without one.

A check-in at `/ping/{id}/{token}` is an up result; `.../fail` is a down result with the cause
"reported failure" (failure_threshold applies). The deadline is (last check-in, or when monitoring
resumed, or the monitor's creation) + interval + grace; when it passes, that is a down result *at
the deadline* that confirms at once. The state machine (`upwatch.engine.state`) applies both.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from upwatch.config.durations import format_duration
from upwatch.engine.context import HeartbeatTiming
from upwatch.engine.model import MonitorState
from upwatch.probes.result import ProbeResult, ProbeState

REPORTED_FAILURE = "reported failure"
_UNITS = (("d", timedelta(days=1)), ("h", timedelta(hours=1)), ("m", timedelta(minutes=1)))


def checkin_result(at: datetime, *, ok: bool) -> ProbeResult:
    """The result a check-in stands for."""
    if ok:
        return ProbeResult(ProbeState.UP, checked_at=at, duration=0.0)
    return ProbeResult(
        ProbeState.DOWN,
        checked_at=at,
        duration=0.0,
        cause=REPORTED_FAILURE,
        public_cause=REPORTED_FAILURE,
    )


def rearm(state: MonitorState, timing: HeartbeatTiming, at: datetime) -> MonitorState:
    """`state` after a check-in at `at`: the next deadline counts from it."""
    return replace(
        state,
        last_checkin_at=at,
        armed_at=at,
        deadline_at=at + timing.allowance,
        deadline_missed=False,
    )


def with_deadline(
    state: MonitorState, timing: HeartbeatTiming, created_at: datetime | None
) -> MonitorState:
    """`state` with `deadline_at` derived from the current config (a redeploy may change it)."""
    baseline = state.armed_at or created_at
    deadline = None if baseline is None else baseline + timing.allowance
    return state if deadline == state.deadline_at else replace(state, deadline_at=deadline)


def is_missed(state: MonitorState, now: datetime) -> bool:
    """Whether the deadline has passed and that miss has not been recorded yet."""
    return not state.deadline_missed and state.deadline_at is not None and now >= state.deadline_at


def miss_result(deadline: datetime, timing: HeartbeatTiming) -> ProbeResult:
    """The down result a passed deadline stands for, timed at the deadline."""
    cause = (
        f"no check-in for {elapsed(timing.allowance)} "
        f"(expected every {spelled(timing.interval)}, {spelled(timing.grace)} grace)"
    )
    return ProbeResult(
        ProbeState.DOWN, checked_at=deadline, duration=0.0, cause=cause, public_cause=cause
    )


def elapsed(span: timedelta) -> str:
    """A span in words a person reads at a glance: `1d 1h`, `6m`, `45s`."""
    parts = []
    rest = span
    for unit, size in _UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    seconds = int(rest.total_seconds())
    if seconds or not parts:
        parts.append(f"{seconds}s")
    return " ".join(parts)


def spelled(span: timedelta) -> str:
    """A configured duration as people write it: `24h` rather than `1d` up to two days."""
    hour = timedelta(hours=1)
    if span <= timedelta(hours=48) and span >= hour and span % hour == timedelta(0):
        return f"{span // hour}h"
    return format_duration(span)
