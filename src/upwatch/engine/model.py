"""The engine's state as plain values: what the store persists and the pure functions transform.

Every datetime here is timezone-aware UTC. Nothing in this module touches the clock, the database
or the network; the store maps these values to rows and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from upwatch.probes.result import ProbeResult, ProbeState


class ShownState(StrEnum):
    """What pages and the API show for a monitor: paused wins over maintenance, which wins over
    the computed state (unknown before the first result, else up, degraded or down)."""

    UNKNOWN = "unknown"
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    FLAPPING = "flapping"  # shown only: outranks up, degraded and down
    MAINTENANCE = "maintenance"
    PAUSED = "paused"


class EventType(StrEnum):
    INCIDENT_OPENED = "incident.opened"
    INCIDENT_ESCALATED = "incident.escalated"
    INCIDENT_REMINDER = "incident.reminder"
    INCIDENT_ACKNOWLEDGED = "incident.acknowledged"
    INCIDENT_RESOLVED = "incident.resolved"
    INCIDENT_UPDATED = "incident.updated"  # a written update (declared incidents too)
    MONITOR_DEGRADED = "monitor.degraded"
    MONITOR_FLAPPING = "monitor.flapping"
    MONITOR_SETTLED = "monitor.settled"
    CERTIFICATE_EXPIRING = "certificate.expiring"
    SLO_BURN_FAST = "slo.burn_fast"
    SLO_BURN_SLOW = "slo.burn_slow"
    SLO_EXHAUSTED = "slo.exhausted"
    SLO_RESOLVED = "slo.resolved"
    REGION_UNAVAILABLE = "region.unavailable"  # a listed region has no live instance: it votes
    REGION_AVAILABLE = "region.available"  # unknown until it is back
    CHANNEL_FAILED = "channel.failed"
    TEST = "test"


class Resolution(StrEnum):
    """Why an incident was resolved; shown in the resolution message and the incident history."""

    RECOVERED = "recovered"
    PAUSED = "monitoring paused"
    ARCHIVED = "monitor removed"


@dataclass(frozen=True, slots=True)
class PolicyStep:
    """One escalation step as snapshotted into an incident when it is confirmed."""

    after: timedelta
    channels: tuple[str, ...]
    repeat_every: timedelta | None = None
    severities: tuple[str, ...] | None = None  # None: the step fires for every severity

    def fires_for(self, severity: str) -> bool:
        return self.severities is None or severity in self.severities


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident; `id` is None until the store has inserted it."""

    monitor_id: str
    started_at: datetime
    confirmed_at: datetime
    cause: str
    public_cause: str | None = None
    id: int | None = None
    resolved_at: datetime | None = None
    resolution: Resolution | None = None
    acknowledged_at: datetime | None = None
    policy_name: str | None = None
    policy: tuple[PolicyStep, ...] = ()
    severity: str = "critical"  # the monitor's severity when the incident was confirmed
    # Why no step may fire now (`flapping`, or `depends_on:<id>` while that parent is down or
    # in maintenance); None when the incident escalates.
    held_by: str | None = None
    # When the last hold ended: steps count `after` from here instead of from `started_at`.
    escalate_from: datetime | None = None
    # Names the incident's one alert in on-call services (PagerDuty's dedup_key): a UUID the
    # store gives it when it inserts the incident.
    alert_key: str | None = None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def duration(self, now: datetime) -> timedelta:
        return (self.resolved_at or now) - self.started_at


@dataclass(frozen=True, slots=True)
class MonitorState:
    """A monitor's evaluation state: everything needed to resume exactly after a restart."""

    monitor_id: str
    state: ShownState = ShownState.UNKNOWN  # computed state: unknown, up, degraded or down
    since: datetime | None = None  # when `state` last changed (for DOWN: the incident's start)
    failure_run: int = 0  # consecutive down results
    failure_run_started_at: datetime | None = None  # first down result of the current run
    success_run: int = 0  # consecutive non-down results while an incident is open
    success_run_started_at: datetime | None = None
    last_success_counted_at: datetime | None = None  # the run's last success that counted
    last_result_at: datetime | None = None
    last_result_state: ProbeState | None = None
    last_cause: str | None = None
    last_public_cause: str | None = None
    last_status_code: int | None = None
    open_incident: Incident | None = None
    # Heartbeat monitors: the deadline counts from `armed_at` (the last check-in, or when
    # monitoring resumed; None = the monitor's creation). `deadline_at` is the deadline derived
    # from it, kept so the store can find due heartbeats; `deadline_missed` is set once a miss
    # was recorded, so one silence is one miss until the next check-in re-arms the deadline.
    last_checkin_at: datetime | None = None
    armed_at: datetime | None = None
    deadline_at: datetime | None = None
    deadline_missed: bool = False
    last_degraded_notice_at: datetime | None = None
    last_cert_notice_at: datetime | None = None
    # Flap damping: the times of recent confirmed changes (incident opened or resolved), and
    # when the monitor started flapping (None: it is not).
    changes: tuple[datetime, ...] = ()
    flapping_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification to enqueue in the outbox, keyed so it is enqueued at most once.

    `key` = incident-or-monitor, event, step, repeat, channel; the store uses it as a
    unique idempotency key, so inserting the same Notice twice is a no-op. `data` is JSON-ready
    (see `upwatch.engine.payload` for its shape).
    """

    event: EventType
    channel: str
    monitor_id: str | None  # None: a declared incident naming no monitor
    at: datetime  # the event's time (webhook `timestamp`)
    incident_id: int | None = None
    step: int | None = None
    repeat: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    # A monitor notice that belongs to an episode (a flapping spell, an SLO alert) is keyed by
    # the episode's start, not by the day: two episodes in one day are two messages.
    episode: datetime | None = None
    subject: str | None = None  # the key's subject when it is neither (an SLO alert: `slo:<id>`)

    @property
    def key(self) -> str:
        if self.subject is not None:
            subject = self.subject
        elif self.incident_id is not None:
            subject = f"incident:{self.incident_id}"
        elif self.episode is not None:
            subject = f"monitor:{self.monitor_id}:{self.episode.isoformat()}"
        else:
            subject = f"monitor:{self.monitor_id}:{self.at.date().isoformat()}"
        step = "-" if self.step is None else str(self.step)
        return f"{subject}:{self.event}:{step}:{self.repeat}:{self.channel}"


@dataclass(frozen=True, slots=True)
class Transition:
    """What one evaluation changed: the store writes all of it in one transaction.

    `result` is the result this evaluation judged (a heartbeat check-in or a missed deadline is
    synthesized here and must be recorded like a probe result). `opened` is a newly confirmed
    incident (id None: the store inserts it and puts the id into `state.open_incident`);
    `resolved` is the open incident as resolved. `notices` go to the outbox.
    """

    state: MonitorState
    result: ProbeResult | None = None
    opened: Incident | None = None
    resolved: Incident | None = None
    notices: tuple[Notice, ...] = ()
    quiet: bool = False  # `resolved` is announced to no one (it resolved while flapping)


@dataclass(frozen=True, slots=True)
class StepProgress:
    """How far one escalation step got: when it fired (its due time) and the last repeat sent."""

    fired_at: datetime | None = None
    last_repeat: int = 0


@dataclass(frozen=True, slots=True)
class EscalationProgress:
    """Per step of an incident's policy snapshot, what has fired; persisted with the incident."""

    steps: tuple[StepProgress, ...] = ()

    def step(self, index: int) -> StepProgress:
        return self.steps[index] if index < len(self.steps) else StepProgress()

    def with_step(self, index: int, progress: StepProgress) -> EscalationProgress:
        padded = self.steps + (StepProgress(),) * (index + 1 - len(self.steps))
        return EscalationProgress((*padded[:index], progress, *padded[index + 1 :]))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form for the incident row's `progress` column."""
        return {
            "steps": [
                {
                    "fired_at": None if s.fired_at is None else s.fired_at.isoformat(),
                    "last_repeat": s.last_repeat,
                }
                for s in self.steps
            ]
        }

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> EscalationProgress:
        steps = (value or {}).get("steps", [])
        return cls(
            tuple(
                StepProgress(
                    None if s["fired_at"] is None else datetime.fromisoformat(s["fired_at"]),
                    int(s["last_repeat"]),
                )
                for s in steps
            )
        )
