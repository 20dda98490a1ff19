"""PagerDuty Events API v2: one alert per incident, triggered, acknowledged and resolved.

The API: https://developer.pagerduty.com/docs/events-api-v2/overview/ (schema:
https://github.com/PagerDuty/api-schema/blob/main/reference/events-v2/openapiv3.json). A POST of
`{routing_key, event_action, dedup_key, ...}` to `/v2/enqueue`; events with one `dedup_key`
act on one alert. Only `trigger` carries a `payload` (`summary` at most 1024 characters,
`source`, `severity` one of critical/error/warning/info), `client`, `client_url` and `links`;
`dedup_key` is at most 255 characters.

Answers: 202 accepted; 400 an invalid event (retrying the same event cannot help: permanent);
429 (PagerDuty throttles per service, dynamically) and 5xx are retried, after `Retry-After`
when it is given. `post()` judges them so.

What each event does (`alert()`): an incident's first step and later steps trigger the
incident's alert (its `alert_key`, a UUID stored with the incident, so the same alert across
restarts), its acknowledgement acknowledges it and its resolution resolves it. Reminders post
nothing. An SLO alert is one PagerDuty alert from its first step to `slo.resolved`. Every other
notice (degraded, certificate, flapping, settled, channel failed, test) is an alert of its own.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from upwatch.config.fields import HttpUrl, Name
from upwatch.engine.model import EventType
from upwatch.engine.payload import iso
from upwatch.notify.channels.base import ChannelConfig, SendContext
from upwatch.notify.channels.http import post
from upwatch.notify.message import SLO_EVENTS, IncidentInfo, Message
from upwatch.notify.outcome import Outcome
from upwatch.notify.text import clip

DEFAULT_API_BASE = "https://events.pagerduty.com"
ENQUEUE_PATH = "/v2/enqueue"
SUMMARY_LIMIT = 1024
DEDUP_KEY_LIMIT = 255
SEVERITIES = frozenset({"critical", "error", "warning", "info"})  # upwatch's are PagerDuty's
CLIENT = "upwatch"


class PagerDutyChannel(ChannelConfig):
    doc_intro: ClassVar[str] = (
        "Sends PagerDuty Events API v2 events: one alert per incident, triggered when a step "
        "with this channel fires, acknowledged and resolved with the incident in upwatch."
    )
    doc_example: ClassVar[str] = """\
channels:
  oncall-pager: {type: pagerduty, routing_key: "${PAGERDUTY_ROUTING_KEY}"}
  oncall-eu:
    type: pagerduty
    routing_key: "${PAGERDUTY_EU_ROUTING_KEY}"
    api_base: https://events.eu.pagerduty.com   # an account in PagerDuty's EU service region
"""

    type: Literal["pagerduty"]
    """Channel type: `pagerduty` sends Events API v2 events to a PagerDuty service."""
    routing_key: Name
    """The Integration Key of the service's "Events API V2" integration; write it as `${VAR}`,
    it is a secret."""
    api_base: HttpUrl = DEFAULT_API_BASE
    """Scheme and host of the Events API (`/v2/enqueue` is appended); for PagerDuty's EU
    service region, `https://events.eu.pagerduty.com`."""


def _incident_key(message: Message, incident: IncidentInfo) -> str:
    if incident.alert_key:
        return incident.alert_key
    # Incidents opened before their alert key was stored: one key per incident all the same.
    monitor = message.monitor.id if message.monitor is not None else "none"
    return f"upwatch-incident-{monitor}-{incident.id}"


_INCIDENT_ACTIONS = {
    EventType.INCIDENT_OPENED: "trigger",
    EventType.INCIDENT_ESCALATED: "trigger",  # the same alert: PagerDuty deduplicates it
    EventType.INCIDENT_ACKNOWLEDGED: "acknowledge",
    EventType.INCIDENT_RESOLVED: "resolve",
}


def _slo_alert(key: str) -> tuple[str, int] | None:
    """`(alert id, repeat)` of an SLO alert's message, keyed `slo:<id>:<event>:<step>:<repeat>:
    <channel>` (see engine/slo_alerts.py)."""
    parts = key.split(":")
    if len(parts) < 6 or parts[0] != "slo" or not (parts[1] + parts[4]).isdigit():
        return None
    return parts[1], int(parts[4])


def alert(message: Message) -> tuple[str, str] | None:
    """`(event_action, dedup_key)` for `message`; None when it changes nothing in PagerDuty."""
    event = message.event
    if event is EventType.INCIDENT_UPDATED:
        return None  # words for people: nothing to trigger, acknowledge or resolve
    if event is EventType.INCIDENT_REMINDER:
        # The alert is already open and PagerDuty's own escalation policy keeps paging until
        # someone acknowledges: a reminder must not trigger a second alert (or a second page).
        return None
    if message.incident is not None and event in _INCIDENT_ACTIONS:
        return _INCIDENT_ACTIONS[event], _incident_key(message, message.incident)
    return _notice_alert(message)


def _notice_alert(message: Message) -> tuple[str, str] | None:
    """An SLO alert's or a region's own alert, else one alert per notice."""
    event = message.event
    slo = _slo_alert(message.key) if event in SLO_EVENTS else None
    if slo is not None:
        alert_id, repeat = slo
        if repeat > 0:
            return None  # a reminder of an SLO alert already open, as for incidents
        action = "resolve" if event is EventType.SLO_RESOLVED else "trigger"
        return action, f"upwatch-slo-{alert_id}"
    if message.region is not None:  # one info alert per region, resolved when it is back
        action = "resolve" if event is EventType.REGION_AVAILABLE else "trigger"
        return action, f"upwatch-region-{message.region}"
    # An alert of its own, the same on every retry of this message.
    kind = "test" if event is EventType.TEST else "notice"
    return "trigger", f"upwatch-{kind}-{message.delivery_id.removeprefix('msg_')}"


def _links(message: Message) -> list[dict[str, str]]:
    wanted = [(message.ack_url, "Acknowledge in upwatch"), (message.status_page_url, "Status page")]
    return [{"href": href, "text": text} for href, text in wanted if href]


def _details(message: Message) -> dict[str, Any]:
    details: dict[str, Any] = {label: value for label, value in message.facts()}
    details["Event"] = str(message.event)
    if message.slo is not None:
        details["SLO"] = message.slo
    return details


def _payload(message: Message, ctx: SendContext) -> dict[str, Any]:
    monitor = message.monitor
    severity = message.severity if message.severity in SEVERITIES else None
    found: dict[str, Any] = {
        "summary": clip(ctx.renderer.subject(message), SUMMARY_LIMIT),
        "source": CLIENT if monitor is None else monitor.name,
        "severity": severity or ("info" if monitor is None else "critical"),
        "timestamp": iso(message.at),
        "class": str(message.event),
        "custom_details": _details(message),
    }
    if monitor is not None:
        found["component"] = monitor.id
    if monitor is not None and monitor.group:
        found["group"] = monitor.group
    return found


def event(message: Message, channel: PagerDutyChannel, ctx: SendContext) -> dict[str, Any] | None:
    """The Events API v2 event for `message`, or None when nothing is to be sent."""
    decided = alert(message)
    if decided is None:
        return None
    action, dedup_key = decided
    body: dict[str, Any] = {
        "routing_key": channel.routing_key,
        "event_action": action,
        "dedup_key": dedup_key[:DEDUP_KEY_LIMIT],
    }
    if action != "trigger":
        return body  # acknowledge and resolve name the alert; PagerDuty ignores anything else
    body["payload"] = _payload(message, ctx)
    body["client"] = CLIENT
    if message.status_page_url:
        body["client_url"] = message.status_page_url
    body["links"] = _links(message)
    return body


async def send(message: Message, channel: PagerDutyChannel, ctx: SendContext) -> Outcome:
    document = event(message, channel, ctx)
    if document is None:
        # Delivered as a no-op: see `alert()` for why a reminder posts nothing.
        return Outcome.delivered(None, "nothing to send: the PagerDuty alert is already open")
    body = json.dumps(document, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "User-Agent": CLIENT}
    url = channel.api_base.rstrip("/") + ENQUEUE_PATH
    return await post(ctx.http, url, body, headers, ctx.clock())
