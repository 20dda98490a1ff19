"""What the phone push channels (telegram, ntfy, pushover) share: the body they show under the
title and how urgent a message is.

The body is rendered from the channel type's template (`telegram.txt`, `ntfy.txt`,
`pushover.txt`), each of which includes `push.txt`: a `templates_dir` overrides `push.txt` for all
three or one type's file for that type alone.

Urgency is on ntfy's scale, 1 (min) to 5 (urgent), and each service maps it to its own: an
incident of a `critical` monitor is 5, `error` 4, `warning` 3, `info` 2. Good news (acknowledged,
resolved, settled, SLO cleared) is never above 3: nobody should be woken to hear that all is
well. Notices short of an outage (degraded, flapping, certificate, SLO burn) stop at 4; a channel
that stopped delivering is 4, a test 3.
"""

from __future__ import annotations

from upwatch.engine.model import EventType
from upwatch.notify.channels.base import SendContext
from upwatch.notify.message import Message

DEFAULT = 3
BY_SEVERITY = {"critical": 5, "error": 4, "warning": 3, "info": 2}
GOOD_NEWS = frozenset(
    {
        EventType.INCIDENT_ACKNOWLEDGED,
        EventType.INCIDENT_RESOLVED,
        EventType.MONITOR_SETTLED,
        EventType.SLO_RESOLVED,
        EventType.REGION_AVAILABLE,
    }
)
OUTAGE = frozenset(
    {EventType.INCIDENT_OPENED, EventType.INCIDENT_ESCALATED, EventType.INCIDENT_REMINDER}
)


def urgency(message: Message) -> int:
    """1 (min) to 5 (urgent): see the module docstring."""
    if message.event is EventType.TEST:
        return DEFAULT
    if message.event is EventType.CHANNEL_FAILED:
        return 4
    level = BY_SEVERITY.get(message.severity or "", DEFAULT)
    if message.event in GOOD_NEWS:
        return min(level, DEFAULT)
    return level if message.event in OUTAGE else min(level, 4)


def body(message: Message, ctx: SendContext, channel_type: str) -> str:
    """The notification's text under its title, from the type's template (`ntfy.txt`)."""
    return ctx.renderer.render(f"{channel_type}.txt", message).strip()
