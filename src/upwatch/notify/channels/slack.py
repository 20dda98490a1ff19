"""Slack incoming webhooks: a `text` fallback (what phones show) plus Block Kit blocks.

Limits: https://api.slack.com/reference/block-kit/blocks (header text 150 characters, section
text 3000, at most 10 fields of 2000, button text 75, button URL 3000, 50 blocks a message).
Slack answers 200 `ok`; 400 `invalid_blocks`, 403 `invalid_token`, 404 `no_service` and
410 `channel_is_archived` are permanent; 429 comes with `Retry-After`
(https://api.slack.com/apis/rate-limits, https://api.slack.com/messaging/webhooks#handling_errors).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from upwatch.config.fields import HttpUrl
from upwatch.notify.channels.base import ChannelConfig, SendContext
from upwatch.notify.channels.http import post
from upwatch.notify.message import Message
from upwatch.notify.outcome import Outcome
from upwatch.notify.text import clip, slack_escape


class SlackChannel(ChannelConfig):
    url_is_secret: ClassVar[bool] = True  # whoever knows the webhook URL can post
    doc_intro: ClassVar[str] = "Posts to a Slack incoming webhook."
    doc_example: ClassVar[str] = """\
channels:
  team-slack: {type: slack, webhook_url: "${SLACK_WEBHOOK_URL}"}
"""

    type: Literal["slack"]
    """Channel type: `slack` posts to a Slack incoming webhook."""
    webhook_url: HttpUrl
    """The Slack incoming-webhook URL; write it as `${VAR}`, it is a secret."""


HEADER_LIMIT = 150
TEXT_LIMIT = 3000
FIELD_LIMIT = 2000
MAX_FIELDS = 10
BUTTON_TEXT_LIMIT = 75
URL_LIMIT = 3000
MAX_BLOCKS = 50


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def _mrkdwn(text: str, limit: int) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text, limit)}


def _button(label: str, url: str | None, action_id: str, style: str | None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": _plain(label, BUTTON_TEXT_LIMIT),
        "url": url,
        "action_id": action_id,
    }
    if style is not None:
        button["style"] = style
    return button


def _buttons(message: Message) -> list[dict[str, Any]]:
    wanted = [
        ("Acknowledge", message.ack_url, "acknowledge", "primary"),
        ("Status page", message.status_page_url, "status_page", None),
    ]
    return [_button(*b) for b in wanted if b[1] is not None and len(b[1]) <= URL_LIMIT]


def blocks(message: Message, subject: str, summary: str, footer: str) -> list[dict[str, Any]]:
    fields = [
        _mrkdwn(f"*{label}*\n{slack_escape(value)}", FIELD_LIMIT)
        for label, value in message.facts()[:MAX_FIELDS]
    ]
    found: list[dict[str, Any]] = [
        {"type": "header", "text": _plain(subject, HEADER_LIMIT)},
        {"type": "section", "text": _mrkdwn(summary, TEXT_LIMIT)},
        {"type": "section", "fields": fields},
    ]
    buttons = _buttons(message)
    if buttons:
        found.append({"type": "actions", "elements": buttons})
    found.append({"type": "context", "elements": [_mrkdwn(slack_escape(footer), TEXT_LIMIT)]})
    return found[:MAX_BLOCKS]


def payload(message: Message, ctx: SendContext) -> dict[str, Any]:
    subject = ctx.renderer.subject(message)
    summary = ctx.renderer.slack(message)
    footer = ctx.renderer.render("footer.txt", message).strip()
    return {
        "text": clip(summary, TEXT_LIMIT),
        "blocks": blocks(message, subject, summary, footer),
        "unfurl_links": False,
        "unfurl_media": False,
    }


async def send(message: Message, channel: SlackChannel, ctx: SendContext) -> Outcome:
    body = json.dumps(payload(message, ctx), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    return await post(ctx.http, channel.webhook_url, body, headers, ctx.clock())
