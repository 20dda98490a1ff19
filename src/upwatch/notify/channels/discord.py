"""Discord webhooks: one embed per message (title, description, fields, colour by tone).

The request: https://discord.com/developers/docs/resources/webhook#execute-webhook (a POST of
`{embeds, allowed_mentions}`; 204 without `?wait=true`, 200 with it). Embed limits:
https://discord.com/developers/docs/resources/message#embed-object-embed-limits (title 256,
description 4,096, 25 fields, field name 256 and value 1,024, footer 2,048, and 6,000 characters
across all of them in one message). Everything is truncated to fit, never refused.

Webhooks cannot carry link buttons (components need an application-owned webhook), so the
acknowledge and status page links are markdown links at the end of the description.
`allowed_mentions: {parse: []}` means no text of ours can ping anyone, whatever it holds
(https://discord.com/developers/docs/resources/message#allowed-mentions-object); markdown in
names and causes is escaped as well, so they show as written
(https://support.discord.com/hc/en-us/articles/210298617).

Rate limits (https://discord.com/developers/docs/topics/rate-limits#exceeding-a-rate-limit):
429 with a JSON body `{"retry_after": <seconds, a float>, "global": bool}` and a
`Retry-After` header; we wait as long as either says. 400 (an invalid body), 401, 403 and 404
(an unknown or deleted webhook) are permanent.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from upwatch.config.fields import HttpUrl
from upwatch.notify.channels.base import ChannelConfig, SendContext
from upwatch.notify.channels.http import judge, post
from upwatch.notify.message import Message
from upwatch.notify.outcome import Outcome
from upwatch.notify.text import clip
from upwatch.notify.tone import Tone, tone


class DiscordChannel(ChannelConfig):
    url_is_secret: ClassVar[bool] = True  # whoever knows the webhook URL can post
    doc_intro: ClassVar[str] = (
        "Posts an embed to a Discord channel through a webhook (Server Settings → "
        "Integrations → Webhooks → New Webhook → Copy Webhook URL)."
    )
    doc_example: ClassVar[str] = """\
channels:
  team-discord: {type: discord, url: "${DISCORD_WEBHOOK_URL}"}
"""

    type: Literal["discord"]
    """Channel type: `discord` posts to a Discord webhook."""
    url: HttpUrl
    """The webhook URL (`https://discord.com/api/webhooks/<id>/<token>`); write it as `${VAR}`,
    it is a secret."""


TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
MAX_FIELDS = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
TOTAL_LIMIT = 6000  # title, description, field names and values, footer: all embeds together
SHORT_VALUE = 40  # values this short sit side by side (inline fields)
COLOURS = {
    Tone.BAD: 0xE01E5A,
    Tone.WARNING: 0xECB22E,
    Tone.GOOD: 0x2EB67D,
    Tone.INFO: 0x5865F2,
}
# Discord's markdown, and `<` that starts mentions, channels and custom emoji (`<@id>`).
_MARKDOWN = re.compile(r"([\\*_~`|>\[\]#<])")


def escape(text: str) -> str:
    """Discord markdown shown as written: every control character gets a backslash."""
    return _MARKDOWN.sub(r"\\\1", text)


@dataclass
class Embed:
    """An embed being fitted into Discord's limits; `links` stay whole at the description's end."""

    title: str
    summary: str
    links: str
    footer: str
    fields: list[tuple[str, str]] = field(default_factory=list)

    def description(self) -> str:
        room = DESCRIPTION_LIMIT - len(self.links) - 2
        text = clip(self.summary, max(room, 0))
        return f"{text}\n\n{self.links}" if self.links else text

    def size(self) -> int:
        named = sum(len(name) + len(value) for name, value in self.fields)
        return len(self.title) + len(self.description()) + len(self.footer) + named

    def fit(self) -> Embed:
        """Within 6,000 characters: shorten the summary (to 500), then drop fields from the
        end, then shorten the summary and the footer further."""
        over = self.size() - TOTAL_LIMIT
        if over > 0:
            self.summary = clip(self.summary, max(len(self.summary) - over, 500))
        while self.size() > TOTAL_LIMIT and self.fields:
            self.fields.pop()
        over = self.size() - TOTAL_LIMIT
        if over > 0:
            self.summary = clip(self.summary, max(len(self.summary) - over, 0))
        over = self.size() - TOTAL_LIMIT
        if over > 0:
            self.footer = clip(self.footer, max(len(self.footer) - over, 0))
        return self


def _links(message: Message) -> str:
    wanted = [("Acknowledge", message.ack_url), ("Status page", message.status_page_url)]
    # A parenthesis would end the markdown link early; percent-encoded, it is the same URL.
    return " · ".join(
        f"[{label}]({url.replace('(', '%28').replace(')', '%29')})"
        for label, url in wanted
        if url is not None
    )


def embed(message: Message, subject: str, summary: str, footer: str) -> dict[str, Any]:
    fields = [
        (clip(escape(label), FIELD_NAME_LIMIT), clip(escape(value), FIELD_VALUE_LIMIT))
        for label, value in message.facts()[:MAX_FIELDS]
    ]
    fitted = Embed(
        title=clip(subject, TITLE_LIMIT),
        summary=escape(summary),
        links=_links(message),
        footer=clip(footer, FOOTER_LIMIT),
        fields=fields,
    ).fit()
    found: dict[str, Any] = {
        "title": fitted.title,
        "description": fitted.description(),
        "color": COLOURS[tone(message)],
        "fields": [
            {"name": name, "value": value, "inline": len(value) <= SHORT_VALUE}
            for name, value in fitted.fields
        ],
        "footer": {"text": fitted.footer},
        "timestamp": message.at.isoformat(),
    }
    if message.status_page_url is not None:
        found["url"] = message.status_page_url
    return found


def payload(message: Message, ctx: SendContext) -> dict[str, Any]:
    subject = ctx.renderer.subject(message)
    summary = ctx.renderer.render("discord.txt", message).strip()
    footer = ctx.renderer.render("footer.txt", message).strip()
    return {
        "embeds": [embed(message, subject, summary, footer)],
        "allowed_mentions": {"parse": []},
    }


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def rate_limit_delay(headers: Mapping[str, str], body: bytes) -> timedelta | None:
    """How long Discord asks us to wait: the longer of the body's `retry_after` and the
    `Retry-After` header (both seconds, possibly fractional)."""
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    said = [_seconds(headers.get("retry-after"))]
    if isinstance(document, dict):
        said.append(_seconds(document.get("retry_after")))
    known = [s for s in said if s is not None]
    return timedelta(seconds=max(known)) if known else None


def judge_discord(status: int, headers: Mapping[str, str], body: bytes, now: datetime) -> Outcome:
    outcome = judge(status, headers, body, now)
    if status != 429:
        return outcome
    delay = rate_limit_delay(headers, body)
    return outcome if delay is None else Outcome.retry(outcome.error or "HTTP 429", 429, delay)


async def send(message: Message, channel: DiscordChannel, ctx: SendContext) -> Outcome:
    body = json.dumps(payload(message, ctx), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    return await post(ctx.http, channel.url, body, headers, ctx.clock(), judged_by=judge_discord)
