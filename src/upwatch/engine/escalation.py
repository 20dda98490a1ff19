"""Escalation of a confirmed incident through the policy it was confirmed with.

Schedule: step k is due at `max(confirmed_at, started_at + after_k)`. When it fires, its progress
records `fired_at` = that due time (not the clock), so a restart computes the same schedule. A step
with `repeat_every` is resent while the incident stays open and unacknowledged: reminder n is due
at `fired_at + n * repeat_every`; reminders missed while upwatch was down collapse into one (only
the latest index n is sent, if n is above the last one sent).

Grouping: everything due at one evaluation goes out as ONE message per channel. The message is led
by the lowest step firing for the first time, else the lowest step reminding; its event is
`incident.opened` when the lead is step 0, `incident.escalated` for a later first firing, else
`incident.reminder`. Each lead (step, repeat) happens once per incident, so the outbox key
`incident:<id>:<event>:<step>:<repeat>:<channel>` is unique and the same on every re-evaluation.

Severity: a step with `severities` is skipped for an incident of any other severity (its index
stays, so step numbers in messages match the policy as written).

Nothing fires while the incident is acknowledged, resolved, held (`held_by`: the monitor is
flapping, or a monitor it depends on is down), or the monitor is in maintenance; steps
that fell due in a window fire at the first evaluation after it (their reminders then count from
their original due time, without an immediate extra reminder).

Cancelling: acknowledgement and resolution cancel every step and reminder not yet sent. The store
does it by marking the incident's unsent outbox rows whose event is in `CANCELLED_BY_ACK_OR_RESOLVE`
as cancelled, in the transaction that acknowledges or resolves; `due_notices` then never produces
more for it. `incident.acknowledged` and `incident.resolved` go to every channel that was sent or
attempted any message for the incident (the caller passes that set; cancelled rows do not count).

`Notice.at` is the evaluation time; `data` is `incident_data` (see `upwatch.engine.payload`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from upwatch.engine.model import (
    EscalationProgress,
    EventType,
    Incident,
    Notice,
    PolicyStep,
    StepProgress,
)
from upwatch.engine.payload import incident_data

CANCELLED_BY_ACK_OR_RESOLVE = frozenset(
    {EventType.INCIDENT_OPENED, EventType.INCIDENT_ESCALATED, EventType.INCIDENT_REMINDER}
)


@dataclass(frozen=True, slots=True)
class _Due:
    step: int
    repeat: int  # 0 = the step's first firing, n = its n-th reminder
    channels: tuple[str, ...]


def step_due_at(incident: Incident, index: int) -> datetime:
    """When step `index` of the incident's policy fires (before maintenance or acknowledgement):
    `after` counts from the start, or from the end of the last hold (flapping settled down, the
    parent it depends on came back)."""
    base = incident.escalate_from or incident.started_at
    return max(incident.confirmed_at, base + incident.policy[index].after)


def due_notices(
    incident: Incident, progress: EscalationProgress, now: datetime, *, in_maintenance: bool
) -> tuple[tuple[Notice, ...], EscalationProgress]:
    """The messages due at `now`, and the progress to store with them (in one transaction)."""
    if not _escalating(incident, in_maintenance=in_maintenance):
        return (), progress
    due: list[_Due] = []
    for index, step in enumerate(incident.policy):
        if not step.fires_for(incident.severity):
            continue
        item, done = _step_due(incident, index, step, progress.step(index), now)
        if item is not None:
            due.append(item)
            progress = progress.with_step(index, done)
    return _messages(incident, due, now), progress


def next_due(incident: Incident, progress: EscalationProgress) -> datetime | None:
    """When `due_notices` will next have something to send (None: nothing more, ever)."""
    if not _escalating(incident, in_maintenance=False):
        return None
    times = [
        _next_time(incident, i, s, progress.step(i))
        for i, s in enumerate(incident.policy)
        if s.fires_for(incident.severity)
    ]
    return min((t for t in times if t is not None), default=None)


def acknowledged_notices(
    incident: Incident, told_channels: Iterable[str], at: datetime
) -> tuple[Notice, ...]:
    """`incident.acknowledged` to every channel told anything about the incident."""
    return _to_told(EventType.INCIDENT_ACKNOWLEDGED, incident, told_channels, at)


def resolved_notices(
    incident: Incident, told_channels: Iterable[str], at: datetime
) -> tuple[Notice, ...]:
    """`incident.resolved` (with its duration) to every channel told anything about it."""
    return _to_told(EventType.INCIDENT_RESOLVED, incident, told_channels, at)


def _escalating(incident: Incident, *, in_maintenance: bool) -> bool:
    if incident.id is None:
        raise ValueError("store the incident before escalating it: message keys need its id")
    return (
        incident.is_open
        and incident.acknowledged_at is None
        and incident.held_by is None
        and not in_maintenance
        and bool(incident.policy)
    )


def _step_due(
    incident: Incident, index: int, step: PolicyStep, done: StepProgress, now: datetime
) -> tuple[_Due | None, StepProgress]:
    if done.fired_at is None:
        due_at = step_due_at(incident, index)
        if due_at > now:
            return None, done
        # Reminders that fell due before this first firing (maintenance) are not sent on top.
        return _Due(index, 0, step.channels), StepProgress(due_at, _repeat(step, due_at, now))
    repeat = _repeat(step, done.fired_at, now)
    if repeat <= done.last_repeat:
        return None, done
    return _Due(index, repeat, step.channels), replace(done, last_repeat=repeat)


def _repeat(step: PolicyStep, fired_at: datetime, now: datetime) -> int:
    """The index of the latest reminder due by `now` (0: none yet, or the step never repeats)."""
    return 0 if step.repeat_every is None else (now - fired_at) // step.repeat_every


def _next_time(
    incident: Incident, index: int, step: PolicyStep, done: StepProgress
) -> datetime | None:
    if done.fired_at is None:
        return step_due_at(incident, index)
    if step.repeat_every is None:
        return None
    return done.fired_at + (done.last_repeat + 1) * step.repeat_every


def _messages(incident: Incident, due: list[_Due], now: datetime) -> tuple[Notice, ...]:
    if not due:
        return ()
    firsts = [d for d in due if d.repeat == 0]
    lead = min(firsts or due, key=lambda d: d.step)
    if lead.repeat:
        event = EventType.INCIDENT_REMINDER
    elif lead.step == 0:
        event = EventType.INCIDENT_OPENED
    else:
        event = EventType.INCIDENT_ESCALATED
    channels = dict.fromkeys(c for d in due for c in d.channels)  # ordered, without repeats
    return tuple(
        Notice(
            event,
            channel,
            incident.monitor_id,
            at=now,
            incident_id=incident.id,
            step=lead.step,
            repeat=lead.repeat,
            data=incident_data(incident, now, step=lead.step, repeat=lead.repeat),
        )
        for channel in channels
    )


def _to_told(
    event: EventType, incident: Incident, told_channels: Iterable[str], at: datetime
) -> tuple[Notice, ...]:
    if incident.id is None:
        raise ValueError("an incident that was never stored has told no one")
    return tuple(
        Notice(
            event,
            channel,
            incident.monitor_id,
            at=at,
            incident_id=incident.id,
            data=incident_data(incident, at),
        )
        for channel in sorted(set(told_channels))
    )
