"""How a message should look at a glance, for channels that colour it (a Discord embed's
colour, an Adaptive Card's text colour): one mapping from event to tone, so they agree."""

from __future__ import annotations

from enum import StrEnum

from upwatch.engine.model import EventType
from upwatch.notify.message import Message


class Tone(StrEnum):
    BAD = "bad"  # down, failing, burning: someone should act
    WARNING = "warning"  # degraded, flapping, a certificate to renew
    GOOD = "good"  # up again, settled, budget fine
    INFO = "info"  # acknowledged, a test


_TONES = {
    EventType.INCIDENT_OPENED: Tone.BAD,
    EventType.INCIDENT_ESCALATED: Tone.BAD,
    EventType.INCIDENT_REMINDER: Tone.BAD,
    EventType.INCIDENT_ACKNOWLEDGED: Tone.INFO,
    EventType.INCIDENT_RESOLVED: Tone.GOOD,
    EventType.MONITOR_DEGRADED: Tone.WARNING,
    EventType.MONITOR_FLAPPING: Tone.WARNING,
    EventType.MONITOR_SETTLED: Tone.GOOD,
    EventType.CERTIFICATE_EXPIRING: Tone.WARNING,
    EventType.SLO_BURN_FAST: Tone.BAD,
    EventType.SLO_BURN_SLOW: Tone.WARNING,
    EventType.SLO_EXHAUSTED: Tone.BAD,
    EventType.SLO_RESOLVED: Tone.GOOD,
    EventType.REGION_UNAVAILABLE: Tone.WARNING,
    EventType.REGION_AVAILABLE: Tone.GOOD,
    EventType.CHANNEL_FAILED: Tone.BAD,
    EventType.TEST: Tone.INFO,
}


def tone(message: Message) -> Tone:
    return _TONES.get(message.event, Tone.INFO)
