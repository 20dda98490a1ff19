"""The engine's state as plain values: what the store persists and the pure functions transform.

Every datetime here is timezone-aware UTC. Nothing in this module touches the clock, the database
or the network; the store maps these values to rows and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class ShownState(StrEnum):
    """What pages and the API show for a monitor (DESIGN §5: paused > maintenance > computed)."""

    UNKNOWN = "unknown"
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    MAINTENANCE = "maintenance"
    PAUSED = "paused"


class EventType(StrEnum):
    INCIDENT_OPENED = "incident.opened"
    INCIDENT_ESCALATED = "incident.escalated"
    INCIDENT_REMINDER = "incident.reminder"
    INCIDENT_ACKNOWLEDGED = "incident.acknowledged"
    INCIDENT_RESOLVED = "incident.resolved"
    MONITOR_DEGRADED = "monitor.degraded"
    CERTIFICATE_EXPIRING = "certificate.expiring"
    CHANNEL_FAILED = "channel.failed"
    TEST = "test"


@dataclass(frozen=True, slots=True)
class PolicyStep:
    """One escalation step as snapshotted into an incident when it is confirmed."""

    after: timedelta
    channels: tuple[str, ...]
    repeat_every: timedelta | None = None


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
    resolution: str | None = None  # "recovered" | "monitoring paused" | "monitor removed"
    acknowledged_at: datetime | None = None
    policy_name: str | None = None
    policy: tuple[PolicyStep, ...] = ()

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
    since: datetime | None = None  # when `state` last changed
    failure_run: int = 0  # consecutive down results
    failure_run_started_at: datetime | None = None  # first down result of the current run
    success_run: int = 0  # consecutive non-down results while an incident is open
    success_run_started_at: datetime | None = None
    last_result_at: datetime | None = None
    last_cause: str | None = None
    last_public_cause: str | None = None
    last_status_code: int | None = None
    open_incident: Incident | None = None
    last_checkin_at: datetime | None = None  # heartbeat monitors
    deadline_at: datetime | None = None  # heartbeat monitors: next missed-check-in deadline
    last_degraded_notice_at: datetime | None = None
    last_cert_notice_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification to enqueue in the outbox, keyed so it is enqueued at most once.

    `key` = incident-or-monitor, event, step, repeat, channel (DESIGN §6); the store uses it as a
    unique idempotency key, so inserting the same Notice twice is a no-op.
    """

    event: EventType
    channel: str
    monitor_id: str
    at: datetime  # the event's time (webhook `timestamp`)
    incident_id: int | None = None
    step: int | None = None
    repeat: int = 0
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        subject = (
            f"incident:{self.incident_id}"
            if self.incident_id is not None
            else (f"monitor:{self.monitor_id}:{self.at.date().isoformat()}")
        )
        return f"{subject}:{self.event}:{self.step}:{self.repeat}:{self.channel}"
