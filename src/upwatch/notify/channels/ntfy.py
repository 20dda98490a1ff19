"""ntfy (https://ntfy.sh, or a self-hosted server): a push notification on a topic.

Published as JSON (https://docs.ntfy.sh/publish/#publish-as-json): a POST to the server's root
of `{topic, title, message, priority, tags, click, actions}`, rather than the message as the
body with `Title`, `Tags` and `Actions` headers. Every subject holds an em dash and monitor names
and causes may be any language, but header values are Latin-1 at best; ntfy decodes RFC 2047
only in some headers, while JSON carries any text as it is, and tags and actions as lists instead
of a comma-and-semicolon syntax that a cause could break.

`priority` 1-5 follows the message's urgency (see push.py), `tags` become the emoji before the
title (https://docs.ntfy.sh/emojis/), `click` opens the status page and an "Acknowledge" view
action opens the acknowledge link (https://docs.ntfy.sh/publish/#action-buttons, at most 3).
A message over 4,096 bytes would become an attachment (https://docs.ntfy.sh/publish/#limitations),
so it is cut to fit. `token` is sent as `Authorization: Bearer`
(https://docs.ntfy.sh/publish/#access-tokens). Answers: 200; 429 when the visitor's request or
message limit is reached (https://docs.ntfy.sh/config/#rate-limiting) and 5xx are retried, after
`Retry-After` when given; 401, 403 (topic not allowed) and other 4xx are permanent.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import field_validator

from upwatch.config.fields import HttpUrl
from upwatch.engine.model import EventType
from upwatch.notify.channels import push
from upwatch.notify.channels.base import ChannelConfig, SendContext
from upwatch.notify.channels.http import post
from upwatch.notify.message import Message
from upwatch.notify.outcome import Outcome
from upwatch.notify.text import clip

MESSAGE_LIMIT = 4096  # bytes of UTF-8
TITLE_LIMIT = 250  # ours: ntfy sets none, a phone shows one line
TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")  # ntfy's topic names
TAGS = {
    EventType.INCIDENT_OPENED: "rotating_light",
    EventType.INCIDENT_ESCALATED: "rotating_light",
    EventType.INCIDENT_REMINDER: "alarm_clock",
    EventType.INCIDENT_ACKNOWLEDGED: "eyes",
    EventType.INCIDENT_RESOLVED: "white_check_mark",
    EventType.INCIDENT_UPDATED: "memo",
    EventType.MONITOR_DEGRADED: "warning",
    EventType.MONITOR_FLAPPING: "warning",
    EventType.MONITOR_SETTLED: "white_check_mark",
    EventType.CERTIFICATE_EXPIRING: "lock",
    EventType.SLO_BURN_FAST: "fire",
    EventType.SLO_BURN_SLOW: "chart_with_downwards_trend",
    EventType.SLO_EXHAUSTED: "fire",
    EventType.SLO_RESOLVED: "white_check_mark",
    EventType.REGION_UNAVAILABLE: "globe_with_meridians",
    EventType.REGION_AVAILABLE: "white_check_mark",
    EventType.CHANNEL_FAILED: "no_bell",
    EventType.TEST: "test_tube",
}


class NtfyChannel(ChannelConfig):
    url_is_secret: ClassVar[bool] = True  # on a public server the topic is the password
    doc_intro: ClassVar[str] = (
        "Publishes a push notification to an ntfy topic (ntfy.sh or your own server), with its "
        "priority from the monitor's severity and an Acknowledge button."
    )
    doc_example: ClassVar[str] = """\
channels:
  phone:
    type: ntfy
    url: "https://ntfy.sh/${NTFY_TOPIC}"
    token: "${NTFY_TOKEN}"
"""

    type: Literal["ntfy"]
    """Channel type: `ntfy` publishes to an ntfy topic."""
    url: HttpUrl
    """The topic's URL, server and topic name: `https://ntfy.sh/mytopic`. On a public server
    anyone who knows the topic can read it: pick a name nobody guesses."""
    token: str | None = None
    """An access token (`tk_...`) for a protected topic, sent as `Authorization: Bearer`; write
    it as `${VAR}`, it is a secret."""

    @field_validator("url")
    @classmethod
    def _has_topic(cls, value: str) -> str:
        topic = urlsplit(value).path.rstrip("/").rpartition("/")[2]
        if not TOPIC.match(topic):
            raise ValueError(
                "must be the topic's URL, the server followed by the topic name "
                "(letters, digits, - and _): https://ntfy.sh/mytopic"
            )
        return value

    def root_and_topic(self) -> tuple[str, str]:
        """Where JSON is published (the server's root) and the topic."""
        parts = urlsplit(self.url)
        base, _, topic = parts.path.rstrip("/").rpartition("/")
        return urlunsplit((parts.scheme, parts.netloc, base + "/", parts.query, "")), topic


def within_bytes(text: str, limit: int) -> str:
    """`text` cut so that its UTF-8 fits `limit` bytes, marked with an ellipsis when cut."""
    if len(text.encode()) <= limit:
        return text
    cut = text.encode()[: limit - len("…".encode())].decode("utf-8", "ignore")
    return cut + "…"


def actions(message: Message) -> list[dict[str, Any]]:
    if not message.ack_url:
        return []
    return [{"action": "view", "label": "Acknowledge", "url": message.ack_url, "clear": True}]


def document(message: Message, topic: str, ctx: SendContext) -> dict[str, Any]:
    found: dict[str, Any] = {
        "topic": topic,
        "title": clip(ctx.renderer.subject(message), TITLE_LIMIT),
        "message": within_bytes(push.body(message, ctx, "ntfy"), MESSAGE_LIMIT),
        "priority": push.urgency(message),
        "tags": [TAGS[message.event]],
    }
    if message.status_page_url:
        found["click"] = message.status_page_url
    if message.ack_url:
        found["actions"] = actions(message)
    return found


async def send(message: Message, channel: NtfyChannel, ctx: SendContext) -> Outcome:
    root, topic = channel.root_and_topic()
    body = json.dumps(document(message, topic, ctx), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if channel.token:
        headers["Authorization"] = f"Bearer {channel.token}"
    return await post(ctx.http, root, body, headers, ctx.clock())
