"""`channel.failed`: a channel refused a message for good, so the other channels hear about it
(a revoked webhook must not silence every later alert).

It goes to the incident's other channels that were told anything, or, for a monitor notice, to
the other channels of the first step of the monitor's current policy. A `channel.failed` that
fails itself announces nothing: no cascade.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from upwatch.config.models import Config
from upwatch.engine.context import policy_steps
from upwatch.engine.model import EventType, Notice
from upwatch.store.deliveries import Delivery


@dataclass(frozen=True, slots=True)
class ChannelFailedNotice(Notice):
    """Keyed by the failed row, so each failure is announced once per channel, whatever retries."""

    failed_outbox_id: int = 0

    @property
    def key(self) -> str:
        subject = (
            f"incident:{self.incident_id}"
            if self.incident_id is not None
            else f"monitor:{self.monitor_id}"
        )
        return f"{subject}:{self.event}:outbox-{self.failed_outbox_id}:0:{self.channel}"


def failure_targets(delivery: Delivery, told: Iterable[str], config: Config) -> list[str]:
    """The channels to tell that `delivery.channel` failed (never the failed one itself)."""
    if delivery.event in (EventType.CHANNEL_FAILED, EventType.TEST):
        return []
    if delivery.incident_id is not None:
        pool: Iterable[str] = told
    else:
        monitor = None if delivery.monitor_id is None else config.monitor(delivery.monitor_id)
        steps = () if monitor is None else policy_steps(config, monitor.escalation_policy)
        pool = steps[0].channels if steps else ()
    return sorted({c for c in pool if c != delivery.channel and c in config.channels})


def failure_notices(
    delivery: Delivery, error: str, targets: Iterable[str], at: datetime
) -> tuple[ChannelFailedNotice, ...]:
    data = {
        "monitor": {"id": delivery.monitor_id},
        "incident": delivery.payload.get("incident"),
        "cause": error,
        "cert_expires_at": None,
        "failure": {"channel": delivery.channel, "event": delivery.event, "error": error},
    }
    return tuple(
        ChannelFailedNotice(
            EventType.CHANNEL_FAILED,
            channel,
            delivery.monitor_id or "",
            at=at,
            incident_id=delivery.incident_id,
            data=data,
            failed_outbox_id=delivery.id,
        )
        for channel in targets
    )
