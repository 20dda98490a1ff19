"""Flap damping (only for monitors with `flapping: {changes, within}`).

A change is a confirmed transition: an incident opened or resolved. When `changes` of them fall
within `within`, the monitor is FLAPPING from that change: one `monitor.flapping` goes to the
policy's first step, and while it lasts no incident message is sent (incidents are still
recorded: an incident opened meanwhile is held, one resolved meanwhile is resolved quietly).
`within` after the last change it settles: one `monitor.settled` names the state it settled in,
and an incident still open escalates from that moment (step k at settle time + after_k). So an
episode costs at most ⌈changes / 2⌉ opened messages, one flapping and one settled.

The settle time is derived from the last change, not from the clock, so a restart that finds a
monitor settled long ago announces the same message with the same key.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from upwatch.engine.context import MonitorContext
from upwatch.engine.model import EventType, Incident, MonitorState, Notice, Transition
from upwatch.engine.payload import flapping_data

HOLD = "flapping"  # `Incident.held_by` while the monitor flaps


def count_change(moved: Transition, ctx: MonitorContext, at: datetime) -> Transition:
    """Record the change `moved` made at `at` (if any); start or continue flapping."""
    rule = ctx.flapping
    if rule is None or (moved.opened is None and moved.resolved is None):
        return moved
    state = moved.state
    recent = tuple(t for t in (*state.changes, at) if t > at - rule.within)[-rule.changes :]
    state = replace(state, changes=recent)
    notices = moved.notices
    if state.flapping_since is None and len(recent) >= rule.changes:
        state = replace(state, flapping_since=at)
        notices += _told(EventType.MONITOR_FLAPPING, state, ctx, at)
    if state.flapping_since is None:
        return replace(moved, state=state)
    opened = None if moved.opened is None else _held(moved.opened)
    if state.open_incident is not None:
        state = replace(state, open_incident=_held(state.open_incident))
    return replace(
        moved, state=state, opened=opened, notices=notices, quiet=moved.resolved is not None
    )


def settle(state: MonitorState, ctx: MonitorContext, now: datetime) -> Transition | None:
    """Leave FLAPPING once `within` passed without a change (at once if damping was turned off
    in the config meanwhile); None while it still flaps, or when it does not."""
    since = state.flapping_since
    due = settles_at(state, None if ctx.flapping is None else ctx.flapping.within)
    if since is None or due is None or due > now:
        return None
    at = now if ctx.flapping is None else due
    incident = state.open_incident
    if incident is not None and incident.held_by == HOLD:
        incident = replace(incident, held_by=None, escalate_from=at)
    settled = replace(state, flapping_since=None, changes=(), open_incident=incident)
    return Transition(settled, notices=_told(EventType.MONITOR_SETTLED, state, ctx, at, since))


def settles_at(state: MonitorState, within: timedelta | None) -> datetime | None:
    """When `settle` acts: `within` after the last change; at once (its start) once damping is
    off (`within` None); never while not flapping. Also the evaluator's cheap filter."""
    if state.flapping_since is None:
        return None
    if within is None:
        return state.flapping_since
    return (state.changes[-1] if state.changes else state.flapping_since) + within


def _held(incident: Incident) -> Incident:
    return incident if incident.held_by == HOLD else replace(incident, held_by=HOLD)


def _told(
    event: EventType,
    state: MonitorState,
    ctx: MonitorContext,
    at: datetime,
    since: datetime | None = None,
) -> tuple[Notice, ...]:
    episode = since or at
    data = flapping_data(
        state.monitor_id,
        ctx.severity,
        since=episode,
        changes=len(state.changes),
        within=ctx.flapping.within if ctx.flapping is not None else at - episode,
        state=str(state.state),
        cause=state.last_cause if state.open_incident is not None else None,
    )
    return tuple(
        Notice(event, channel, state.monitor_id, at=at, data=data, episode=episode)
        for channel in ctx.notice_channels
    )
