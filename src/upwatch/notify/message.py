"""What one notification says: the event's facts (frozen in the outbox payload) plus what the
running config adds when it is sent (the monitor's name and group, links, who has been told).

Every channel renders a `Message`; none reads the outbox or the config itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from upwatch.engine.model import EventType
from upwatch.notify import text

TAGS = {
    EventType.INCIDENT_OPENED: "DOWN",
    EventType.INCIDENT_ESCALATED: "ESCALATED",
    EventType.INCIDENT_REMINDER: "REMINDER",
    EventType.INCIDENT_ACKNOWLEDGED: "ACKNOWLEDGED",
    EventType.INCIDENT_RESOLVED: "RESOLVED",
    EventType.INCIDENT_UPDATED: "UPDATE",
    EventType.MONITOR_DEGRADED: "DEGRADED",
    EventType.MONITOR_FLAPPING: "FLAPPING",
    EventType.MONITOR_SETTLED: "SETTLED",
    EventType.CERTIFICATE_EXPIRING: "CERT",
    EventType.SLO_BURN_FAST: "SLO FAST BURN",
    EventType.SLO_BURN_SLOW: "SLO SLOW BURN",
    EventType.SLO_EXHAUSTED: "SLO EXHAUSTED",
    EventType.SLO_RESOLVED: "SLO OK",
    EventType.REGION_UNAVAILABLE: "REGION UNAVAILABLE",
    EventType.REGION_AVAILABLE: "REGION AVAILABLE",
    EventType.CHANNEL_FAILED: "CHANNEL FAILED",
    EventType.TEST: "TEST",
}
# Events that ask someone to act on an open incident: they carry the acknowledge link.
ASKS_FOR_ACK = frozenset(
    {
        EventType.INCIDENT_OPENED,
        EventType.INCIDENT_ESCALATED,
        EventType.INCIDENT_REMINDER,
        EventType.CHANNEL_FAILED,
    }
)
SLO_EVENTS = frozenset(
    {
        EventType.SLO_BURN_FAST,
        EventType.SLO_BURN_SLOW,
        EventType.SLO_EXHAUSTED,
        EventType.SLO_RESOLVED,
    }
)


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class MonitorInfo:
    id: str
    name: str
    group: str | None = None
    public: bool = True


@dataclass(frozen=True, slots=True)
class IncidentInfo:
    """The incident as it was when the event happened (see `upwatch.engine.payload`)."""

    id: int
    started_at: datetime
    confirmed_at: datetime | None
    resolved_at: datetime | None
    resolution: str | None
    duration_seconds: int
    acknowledged: bool
    acknowledged_at: datetime | None
    step: int | None
    repeat: int
    cause: str
    policy: str | None
    alert_key: str | None = None  # the incident's one alert in on-call services (a UUID)

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> IncidentInfo:
        started_at = _time(data["started_at"])
        assert started_at is not None
        return cls(
            id=int(data["id"]),
            started_at=started_at,
            confirmed_at=_time(data.get("confirmed_at")),
            resolved_at=_time(data.get("resolved_at")),
            resolution=data.get("resolution"),
            duration_seconds=int(data.get("duration_seconds") or 0),
            acknowledged=bool(data.get("acknowledged")),
            acknowledged_at=_time(data.get("acknowledged_at")),
            step=data.get("step"),
            repeat=int(data.get("repeat") or 0),
            cause=str(data.get("cause") or ""),
            policy=data.get("policy"),
            alert_key=data.get("alert_key"),
        )

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True, slots=True)
class Flapping:
    """For `monitor.flapping` and `monitor.settled`: the spell, and the state it is in (settled
    in)."""

    since: datetime
    changes: int
    within: timedelta
    state: str

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Flapping:
        since = _time(data["since"])
        assert since is not None
        return cls(
            since,
            int(data["changes"]),
            timedelta(seconds=int(data["within_seconds"])),
            data["state"],
        )


@dataclass(frozen=True, slots=True)
class WrittenUpdate:
    """For `incident.updated`: what a person wrote, on which incident."""

    title: str  # a declared incident's title, else the monitor's name
    status: str  # investigating | identified | monitoring | resolved
    body: str
    declared: bool

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> WrittenUpdate:
        return cls(
            str(data.get("title") or "incident"),
            str(data["status"]),
            str(data["body"]),
            bool(data.get("declared")),
        )


@dataclass(frozen=True, slots=True)
class Failure:
    """For `channel.failed`: which channel stopped accepting messages, and what it said."""

    channel: str
    event: str
    error: str

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Failure:
        return cls(str(data["channel"]), str(data["event"]), str(data["error"]))


@dataclass(frozen=True, slots=True)
class Message:
    key: str  # the outbox key: ids derived from it stay the same on every retry
    event: EventType
    channel: str  # the channel this message goes to
    at: datetime  # when the event happened
    monitor: MonitorInfo | None  # None for a test message
    incident: IncidentInfo | None = None
    cause: str | None = None
    cert_expires_at: datetime | None = None
    told: tuple[str, ...] = ()  # channels told about this incident (or notice) so far
    status_page_url: str | None = None
    ack_url: str | None = None
    failure: Failure | None = None
    severity: str | None = None  # the monitor's, when the event happened
    flapping: Flapping | None = None
    slo: dict[str, Any] | None = None  # SLO alerts: target, window, budget left, burn rates
    update: WrittenUpdate | None = None  # incident.updated: what was written
    region: str | None = None  # region.unavailable / region.available: which region

    @property
    def delivery_id(self) -> str:
        """The webhook id (`webhook-id` header and body `id`): the same on every retry."""
        return "msg_" + hashlib.sha256(self.key.encode()).hexdigest()[:32]

    def message_id(self, domain: str) -> str:
        """The email `Message-ID`, derived from the key like the webhook id."""
        return f"<{self.delivery_id.removeprefix('msg_')}@{domain}>"

    @property
    def tag(self) -> str:
        return TAGS[self.event]

    @property
    def why(self) -> str:
        """The cause in words, on one line."""
        cause = self.cause or (self.incident.cause if self.incident else None)
        if self.failure is not None:
            cause = self.failure.error
        return text.one_line(cause or "no cause recorded")

    @property
    def since(self) -> datetime:
        return self.incident.started_at if self.incident is not None else self.at

    @property
    def duration(self) -> timedelta:
        if self.incident is not None:
            return timedelta(seconds=self.incident.duration_seconds)
        return timedelta(0)

    @property
    def state(self) -> str:
        """The monitor's state as the message reports it."""
        if self.flapping is not None:
            if self.event is EventType.MONITOR_FLAPPING:
                return "FLAPPING"
            return f"settled {self.flapping.state.upper()}"
        if self.event in SLO_EVENTS or self.region is not None:
            return self._notice_state()
        if self.incident is None or self.update is not None:
            # A written update reports its status; monitor notices are degraded, or a
            # certificate close to expiry.
            return "DEGRADED" if self.update is None else self.update.status.upper()
        if not self.incident.is_open:
            return "UP" if self.incident.resolution in (None, "recovered") else "RESOLVED"
        return "DOWN, acknowledged" if self.incident.acknowledged else "DOWN"

    def _notice_state(self) -> str:
        """The state an SLO alert or a region notice reports."""
        if self.region is not None:
            return "UNAVAILABLE" if self.event is EventType.REGION_UNAVAILABLE else "AVAILABLE"
        return "SLO OK" if self.event is EventType.SLO_RESOLVED else "SLO AT RISK"

    def facts(self) -> list[tuple[str, str]]:
        """Label and value of everything a person needs at a glance, in reading order."""
        if self.event is EventType.TEST:
            return [("Channel", self.channel), ("Sent", text.utc(self.at))]
        if self.region is not None:
            return [("Region", self.region), ("State", self.state), ("Since", text.utc(self.at))]
        if self.failure is not None:
            undelivered = TAGS.get(EventType(self.failure.event), self.failure.event)
            head = [
                ("Channel", self.failure.channel),
                ("Error", self.failure.error),
                ("Undelivered", f"{undelivered} message"),
                ("Monitor", self._monitor_label()),
            ]
        elif self.update is not None:
            head = [
                ("Incident", self.update.title),
                ("Monitor", self._monitor_label()),
                ("Status", self.state),
                ("Update", self.why),
            ]
        else:
            head = [("Monitor", self._monitor_label()), ("State", self.state), ("Cause", self.why)]
            if self.severity is not None:
                head.insert(1, ("Severity", self.severity))
        told = [("Told", ", ".join(self.told))] if self.told else []
        return [*head, *self._time_facts(), *told]

    def _monitor_label(self) -> str:
        if self.monitor is None:
            return "none"
        group = f" ({self.monitor.group})" if self.monitor.group else ""
        return f"{self.monitor.name}{group}"

    def _time_facts(self) -> list[tuple[str, str]]:
        incident = self.incident
        if incident is None:
            return [("Since", text.utc(self.at))]
        facts = [("Since", text.utc(incident.started_at))]
        if incident.resolved_at is not None:
            facts.append(("Resolved", text.utc(incident.resolved_at)))
        facts.append(("Duration", text.duration(self.duration)))
        if incident.acknowledged_at is not None:
            facts.append(("Acknowledged", text.utc(incident.acknowledged_at)))
        return facts

    def template_context(self) -> dict[str, Any]:
        """What templates see (see templates/notify/README.md)."""
        return {
            "message": self,
            "event": str(self.event),
            "tag": self.tag,
            "monitor": self.monitor,
            "incident": self.incident,
            "cause": self.why,
            "state": self.state,
            "since": self.since,
            "duration": self.duration,
            "at": self.at,
            "told": self.told,
            "channel": self.channel,
            "failure": self.failure,
            "cert_expires_at": self.cert_expires_at,
            "status_page_url": self.status_page_url,
            "ack_url": self.ack_url,
            "facts": self.facts(),
            "severity": self.severity,
            "flapping": self.flapping,
            "slo": self.slo,
            "update": self.update,
            "region": self.region,
        }


def message_from_payload(
    *,
    key: str,
    event: str,
    channel: str,
    at: datetime,
    payload: Mapping[str, Any],
    monitor: MonitorInfo | None,
    told: tuple[str, ...] = (),
    status_page_url: str | None = None,
    ack_url: str | None = None,
) -> Message:
    """A Message from an outbox row's payload and what the running config adds."""
    incident = payload.get("incident")
    failure = payload.get("failure")
    flapping = payload.get("flapping")
    update = payload.get("update")
    return Message(
        key=key,
        event=EventType(event),
        channel=channel,
        at=at,
        monitor=monitor,
        incident=None if incident is None else IncidentInfo.from_payload(incident),
        cause=payload.get("cause"),
        cert_expires_at=_time(payload.get("cert_expires_at")),
        told=told,
        status_page_url=status_page_url,
        ack_url=ack_url,
        failure=None if failure is None else Failure.from_payload(failure),
        severity=(payload.get("monitor") or {}).get("severity"),
        flapping=None if flapping is None else Flapping.from_payload(flapping),
        slo=payload.get("slo"),
        update=None if update is None else WrittenUpdate.from_payload(update),
        region=payload.get("region"),
    )


def slo_alert_id(message: Message) -> int | None:
    """The SLO alert a firing SLO message asks to acknowledge (its key is `slo:<id>:...`)."""
    if message.event not in SLO_EVENTS or message.event is EventType.SLO_RESOLVED:
        return None
    subject, _, rest = message.key.partition(":")
    alert = rest.partition(":")[0]
    return int(alert) if subject == "slo" and alert.isascii() and alert.isdigit() else None


def wants_ack_link(message: Message) -> bool:
    """Whether the message asks someone to acknowledge an incident that was open and
    unacknowledged when the event happened."""
    incident = message.incident
    return (
        message.event in ASKS_FOR_ACK
        and incident is not None
        and incident.is_open
        and not incident.acknowledged
    )
