"""Signed webhooks per the Standard Webhooks specification (https://www.standardwebhooks.com).

Body: `{type, id, timestamp, data: {monitor, incident, status_page_url, ack_url, ...}}`, where `id`
is the `webhook-id` header (derived from the outbox key: the same on every retry, so a receiver
drops duplicates) and `timestamp` the event's time. `webhook-timestamp` is the time of this
attempt; `webhook-signature` is `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>` with the
key base64-decoded from `whsec_...`. Without a secret the request is unsigned.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from base64 import b64decode
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, field_validator

from upwatch.config.fields import HttpUrl
from upwatch.engine.payload import iso
from upwatch.notify.channels.base import ChannelConfig, SendContext
from upwatch.notify.channels.http import post
from upwatch.notify.message import Flapping, IncidentInfo, Message
from upwatch.notify.outcome import Outcome

if TYPE_CHECKING:
    import httpx


class WebhookChannel(ChannelConfig):
    doc_intro: ClassVar[str] = (
        "POSTs a JSON event to `url`, signed per the Standard Webhooks specification when "
        "`secret` is set."
    )
    doc_example: ClassVar[str] = """\
channels:
  pager:
    type: webhook
    url: https://hooks.example.com/upwatch
    secret: "${WEBHOOK_SECRET}"
    headers: {X-Team: platform}
"""
    type: Literal["webhook"]
    """Channel type: `webhook` POSTs a JSON event to a URL."""
    url: HttpUrl
    """The `http://` or `https://` URL that receives the POST."""
    secret: str | None = None
    """Signing key, `whsec_` followed by base64 (Standard Webhooks); without it deliveries are
    unsigned."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers sent with every delivery, name to value."""

    @field_validator("secret")
    @classmethod
    def _standard_webhooks_secret(cls, value: str | None) -> str | None:
        if value is not None and not _is_whsec(value):
            raise ValueError("must be whsec_ followed by base64 (Standard Webhooks)")
        return value


def _is_whsec(value: str) -> bool:
    # Signing decodes the key, so a secret that is not whole base64 would only fail at delivery.
    key = value.removeprefix("whsec_")
    if key == value or not key:
        return False
    try:
        return bool(b64decode(key, validate=True))
    except binascii.Error:
        return False


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
    `cause` for notices that have no incident and `update` for a written update (`monitor` is
    null for one on a declared incident that names no monitor)."""
    monitor = message.monitor
    update = message.update
    return {
        "type": str(message.event),
        "id": message.delivery_id,
        "timestamp": iso(message.at),
        "data": {
            "monitor": (TEST_MONITOR if message.event == "test" else None)
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
            "update": None
            if update is None
            else {
                "title": update.title,
                "status": update.status,
                "body": update.body,
                "declared": update.declared,
            },
            "region": message.region,
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
    import httpx  # here, not at import: the config models load this module (see registry.py)

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
