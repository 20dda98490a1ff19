"""Signed webhooks per the Standard Webhooks specification (https://www.standardwebhooks.com).

Body: `{type, id, timestamp, data: {monitor, incident, status_page_url, ack_url, ...}}`, where `id`
is the `webhook-id` header (derived from the outbox key: the same on every retry, so a receiver
drops duplicates) and `timestamp` the event's time. `webhook-timestamp` is the time of this
attempt; `webhook-signature` is `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>` with the
key base64-decoded from `whsec_...`. Without a secret the request is unsigned.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx

from upwatch.config.models import WebhookChannel
from upwatch.config.secrets import is_sensitive_header, url_credentials
from upwatch.engine.payload import iso
from upwatch.notify.channels.base import SendContext
from upwatch.notify.channels.http import post
from upwatch.notify.message import Flapping, IncidentInfo, Message
from upwatch.notify.outcome import Outcome

TEST_MONITOR = {"id": "upwatch-test", "name": "upwatch test notification", "group": None}


def _incident(incident: IncidentInfo | None) -> dict[str, Any] | None:
    if incident is None:
        return None
    return {
        "id": incident.id,
        "started_at": iso(incident.started_at),
        "confirmed_at": iso(incident.confirmed_at),
        "resolved_at": iso(incident.resolved_at),
        "duration_seconds": incident.duration_seconds,
        "acknowledged": incident.acknowledged,
        "step": incident.step,
        "cause": incident.cause,
    }


def _failure(message: Message) -> dict[str, Any] | None:
    failure = message.failure
    if failure is None:
        return None
    return {"channel": failure.channel, "event": failure.event, "error": failure.error}


def document(message: Message) -> dict[str, Any]:
    """The JSON body `{type, id, timestamp, data}` (`id` is also the `webhook-id` header), plus
    `cause` for notices that have no incident."""
    monitor = message.monitor
    return {
        "type": str(message.event),
        "id": message.delivery_id,
        "timestamp": iso(message.at),
        "data": {
            "monitor": TEST_MONITOR
            if monitor is None
            else {
                "id": monitor.id,
                "name": monitor.name,
                "group": monitor.group,
                "severity": message.severity,
            },
            "incident": _incident(message.incident),
            "status_page_url": message.status_page_url,
            "ack_url": message.ack_url,
            "cause": message.why if message.event != "test" else None,
            "cert_expires_at": iso(message.cert_expires_at),
            "failure": _failure(message),
            "flapping": None if message.flapping is None else _flapping(message.flapping),
            "slo": message.slo,
        },
    }


def _flapping(flapping: Flapping) -> dict[str, Any]:
    return {
        "since": iso(flapping.since),
        "changes": flapping.changes,
        "within_seconds": int(flapping.within.total_seconds()),
        "state": flapping.state,
    }


def signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def request_headers(
    message: Message, channel: WebhookChannel, body: bytes, timestamp: int
) -> httpx.Headers:
    headers = httpx.Headers({"Content-Type": "application/json", "User-Agent": "upwatch"})
    headers.update(channel.headers)  # the user's headers, except the protocol's own below
    headers.update(
        {
            "webhook-id": message.delivery_id,
            "webhook-timestamp": str(timestamp),
            "X-Upwatch-Event": str(message.event),
        }
    )
    if channel.secret:
        headers["webhook-signature"] = signature(
            channel.secret, message.delivery_id, timestamp, body
        )
    return headers


async def send(message: Message, channel: WebhookChannel, ctx: SendContext) -> Outcome:
    body = json.dumps(document(message), separators=(",", ":"), ensure_ascii=False).encode()
    now = ctx.clock()
    headers = request_headers(message, channel, body, int(now.timestamp()))
    return await post(ctx.http, channel.url, body, headers, now)


def secrets(channel: WebhookChannel) -> set[str]:
    # The URL's credentials and sensitive headers only: `X-Team: platform` is not a secret.
    found = set(url_credentials(channel.url))
    found.update(v for k, v in channel.headers.items() if is_sensitive_header(k))
    if channel.secret:
        found.add(channel.secret)
    return found
