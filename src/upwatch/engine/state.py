"""The monitor state machine as pure functions of (state, context, time).

Every function returns a `Transition`: the new state, the result it judged, an incident opened or
resolved, and the monitor notices to enqueue. Incident messages are not emitted here; the caller
hands opened and resolved incidents to `upwatch.engine.escalation`.

- A down result extends the failure run; an up or degraded result ends it. The failure_threshold-th
  consecutive down result confirms an incident (`confirmed_at` = that result's time, `started_at`
  = the run's first down result) and makes the computed state DOWN. Until then the computed state
  stays what it was. Degraded is shown at once and counts as up for incidents.
- While an incident is open, recovery_threshold consecutive non-down results resolve it;
  `resolved_at` is the first of them, and the computed state follows the last result. Only results
  of distinct probe slots count: a success less than `ctx.recovery_spacing` after the last counted
  one (two slots fired together after a restart) keeps the run going without extending it.
- Maintenance: results count, but nothing is confirmed inside a window. A run that spanned a
  window is confirmed no earlier than the window's end: `started_at` = max(run start, window end);
  `on_tick` confirms it *at* the window end when no result after it has done so yet.
- A missed heartbeat deadline confirms at once; a "reported failure" check-in uses the threshold.
- `since` is when the computed state last changed; for DOWN it is the incident's `started_at`,
  after a recovery the incident's `resolved_at`.
- The caller does not evaluate paused or archived monitors: `pause`/`archive` resolve the open
  incident when that starts, `resume` starts afresh (UNKNOWN) when it ends.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from upwatch.engine import flapping, heartbeat
from upwatch.engine.context import MonitorContext
from upwatch.engine.model import Incident, MonitorState, Resolution, ShownState, Transition
from upwatch.engine.notices import monitor_notices
from upwatch.probes.result import ProbeResult, ProbeState


def apply_result(
    state: MonitorState, ctx: MonitorContext, result: ProbeResult, *, cert_expiring: bool = False
) -> Transition:
    """Judge one result; `ctx` describes the instant `result.checked_at`."""
    recorded = _record(state, result)
    if result.is_down:
        moved = _on_down(recorded, ctx, result.checked_at, now=result.checked_at)
    else:
        moved = _on_up(recorded, ctx, result)
    new_state, notices = monitor_notices(
        state, moved.state, ctx, result, cert_expiring=cert_expiring
    )
    moved = replace(moved, state=new_state, result=result, notices=notices)
    return flapping.count_change(moved, ctx, result.checked_at)


def check_in(state: MonitorState, ctx: MonitorContext, at: datetime, *, ok: bool) -> Transition:
    """A heartbeat check-in at `at` (`ok=False` for `/fail`): re-arms the deadline, then judged."""
    if ctx.heartbeat is None:
        raise ValueError(f"monitor {state.monitor_id} is not a heartbeat monitor")
    armed = heartbeat.rearm(state, ctx.heartbeat, at)
    return apply_result(armed, ctx, heartbeat.checkin_result(at, ok=ok))


def on_tick(state: MonitorState, ctx: MonitorContext, now: datetime) -> Transition:
    """What the passing of time alone does at `now` (`ctx` describes `now`).

    A heartbeat deadline that passed becomes a down result at the deadline, confirmed at once;
    a failure run that kept going through a maintenance window is confirmed at the window's end.
    A miss found late, after a window that ended past the deadline, is confirmed at that window's
    end: knowing only the window's end, the deadline may have fallen inside it. A flapping monitor
    that had no change for `flapping.within` settles.
    """
    settled = flapping.settle(state, ctx, now)
    moved = _on_time(state if settled is None else settled.state, ctx, now)
    if settled is not None:
        moved = replace(moved, notices=settled.notices + moved.notices)
    at = now if moved.opened is None else moved.opened.confirmed_at
    return flapping.count_change(moved, ctx, at)


def _on_time(state: MonitorState, ctx: MonitorContext, now: datetime) -> Transition:
    if ctx.heartbeat is not None:
        state = heartbeat.with_deadline(state, ctx.heartbeat, ctx.created_at)
        if heartbeat.is_missed(state, now):
            assert state.deadline_at is not None  # is_missed checks it
            result = heartbeat.miss_result(state.deadline_at, ctx.heartbeat)
            missed = replace(_record(state, result), deadline_missed=True)
            return replace(_on_down(missed, ctx, result.checked_at, now=now), result=result)
    return _confirm_after_window(state, ctx, now)


def pause(state: MonitorState, at: datetime) -> Transition:
    """Monitoring paused at `at`: the open incident is resolved, "monitoring paused"."""
    return _stop(state, at, Resolution.PAUSED)


def archive(state: MonitorState, at: datetime) -> Transition:
    """The monitor left the config at `at`: the open incident is resolved, "monitor removed"."""
    return _stop(state, at, Resolution.ARCHIVED)


def resume(state: MonitorState, at: datetime) -> Transition:
    """Monitoring resumed (or an archived id came back) at `at`: a fresh start, UNKNOWN."""
    return Transition(
        replace(
            _fresh_runs(state),
            state=ShownState.UNKNOWN,
            since=at,
            armed_at=at,
            deadline_at=None,
            deadline_missed=False,
            changes=(),
            flapping_since=None,
        )
    )


def shown_state(state: MonitorState, *, paused: bool, in_maintenance: bool) -> ShownState:
    """PAUSED wins over MAINTENANCE, which wins over FLAPPING, which wins over the computed
    state."""
    return shown(
        state.state,
        paused=paused,
        in_maintenance=in_maintenance,
        flapping=state.flapping_since is not None,
    )


def shown(
    computed: ShownState, *, paused: bool, in_maintenance: bool, flapping: bool = False
) -> ShownState:
    """The precedence rule itself, for callers holding a stored state rather than a value."""
    if paused:
        return ShownState.PAUSED
    if in_maintenance:
        return ShownState.MAINTENANCE
    if flapping:
        return ShownState.FLAPPING
    return computed


def _record(state: MonitorState, result: ProbeResult) -> MonitorState:
    return replace(
        state,
        last_result_at=result.checked_at,
        last_result_state=result.state,
        last_cause=result.cause,
        last_public_cause=result.public_cause,
        last_status_code=result.status_code,
    )


def _on_down(
    state: MonitorState, ctx: MonitorContext, at: datetime, *, now: datetime
) -> Transition:
    run_start = (state.failure_run_started_at if state.failure_run else None) or at
    extended = replace(
        state,
        failure_run=state.failure_run + 1,
        failure_run_started_at=run_start,
        success_run=0,
        success_run_started_at=None,
        last_success_counted_at=None,
    )
    return _maybe_confirm(extended, ctx, at, now=now)


def _on_up(state: MonitorState, ctx: MonitorContext, result: ProbeResult) -> Transition:
    at = result.checked_at
    computed = ShownState.DEGRADED if result.state is ProbeState.DEGRADED else ShownState.UP
    ended = replace(state, failure_run=0, failure_run_started_at=None)
    if ended.open_incident is None:
        return Transition(_computed(ended, computed, at))
    counted = ended.last_success_counted_at if ended.success_run else None
    if counted is not None and at - counted < ctx.recovery_spacing:
        return Transition(ended)
    run_start = (ended.success_run_started_at if ended.success_run else None) or at
    run = ended.success_run + 1
    if run < ctx.recovery_threshold:
        return Transition(
            replace(
                ended, success_run=run, success_run_started_at=run_start, last_success_counted_at=at
            )
        )
    return _resolve(ended, run_start, Resolution.RECOVERED, computed)


def _maybe_confirm(
    state: MonitorState, ctx: MonitorContext, at: datetime, *, now: datetime
) -> Transition:
    threshold = 1 if state.deadline_missed else ctx.failure_threshold
    if state.open_incident is not None or ctx.in_maintenance or state.failure_run < threshold:
        return Transition(state)
    assert state.failure_run_started_at is not None  # a run of at least one has a start
    window_end = _window_end(ctx, now)
    started = max(state.failure_run_started_at, window_end or state.failure_run_started_at)
    confirmed = max(at, window_end or at)
    incident = Incident(
        monitor_id=state.monitor_id,
        started_at=started,
        confirmed_at=confirmed,
        cause=state.last_cause or "down",
        public_cause=state.last_public_cause,
        policy_name=ctx.policy_name,
        policy=ctx.policy,
        severity=ctx.severity,
    )
    down = replace(state, state=ShownState.DOWN, since=started, open_incident=incident)
    return Transition(down, opened=incident)


def _confirm_after_window(state: MonitorState, ctx: MonitorContext, now: datetime) -> Transition:
    window_end = _window_end(ctx, now)
    run_start = state.failure_run_started_at
    if window_end is None or run_start is None or run_start >= window_end:
        return Transition(state)
    return _maybe_confirm(state, ctx, window_end, now=now)


def _window_end(ctx: MonitorContext, now: datetime) -> datetime | None:
    """The end of the last window, if it has passed by `now` (a later one is the caller's slip)."""
    end = ctx.last_window_end
    return end if end is not None and end <= now else None


def _resolve(
    state: MonitorState, at: datetime, resolution: Resolution, computed: ShownState
) -> Transition:
    assert state.open_incident is not None
    resolved = replace(state.open_incident, resolved_at=at, resolution=resolution)
    after = replace(_fresh_runs(state), open_incident=None, state=computed, since=at)
    return Transition(after, resolved=resolved)


def _stop(state: MonitorState, at: datetime, resolution: Resolution) -> Transition:
    # While nothing is probed, nothing is known: the computed state is UNKNOWN from `at`.
    if state.open_incident is None:
        return Transition(_computed(_fresh_runs(state), ShownState.UNKNOWN, at))
    return _resolve(state, at, resolution, ShownState.UNKNOWN)


def _computed(state: MonitorState, computed: ShownState, at: datetime) -> MonitorState:
    return state if state.state is computed else replace(state, state=computed, since=at)


def _fresh_runs(state: MonitorState) -> MonitorState:
    return replace(
        state,
        failure_run=0,
        failure_run_started_at=None,
        success_run=0,
        success_run_started_at=None,
        last_success_counted_at=None,
    )
