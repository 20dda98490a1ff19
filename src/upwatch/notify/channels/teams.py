"""Microsoft Teams through a Workflows webhook ("When a Teams webhook request is received"):
an Adaptive Card with the subject, the summary, a FactSet and Acknowledge / Status page buttons.

Office 365 connectors (the old `MessageCard` webhooks) are retired; Workflows takes
`{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
"content": <card>}]}`: https://support.microsoft.com/office/8ae491c7-0394-4861-ba59-055e33f75498
and https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
(an Adaptive Card up to version 1.5 in Teams; a message at most 28 KB). The card format:
https://adaptivecards.io/explorer/ (TextBlock, FactSet, Action.OpenUrl). Card text is a small
markdown dialect (https://learn.microsoft.com/adaptive-cards/authoring-cards/text-features),
escaped here so names and causes show as written; no text can @mention anyone (mentions need
`msteams.entities`, which we never send).

Answers: Workflows accepts with 202 (200 from some environments); 400 (a card it cannot read),
401/403 (a revoked URL) and 404 (a deleted flow) are permanent; 429 (Power Automate's request
limits, https://learn.microsoft.com/power-automate/limits-and-config) and 5xx are retried after
`Retry-After`.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar, Literal

from upwatch.config.fields import HttpUrl
from upwatch.notify.channels.base import ChannelConfig, SendContext
from upwatch.notify.channels.http import post
from upwatch.notify.message import Message
from upwatch.notify.outcome import Outcome
from upwatch.notify.text import clip
from upwatch.notify.tone import Tone, tone


class TeamsChannel(ChannelConfig):
    url_is_secret: ClassVar[bool] = True  # the URL carries the flow's signature (`sig=`)
    doc_intro: ClassVar[str] = (
        "Posts an Adaptive Card to a Microsoft Teams channel or chat through a Workflows "
        'webhook (in the channel: … → Workflows → "Post to a channel when a webhook request '
        'is received", then copy its URL). Office 365 connectors are retired.'
    )
    doc_example: ClassVar[str] = """\
channels:
  team-teams: {type: teams, url: "${TEAMS_WORKFLOW_URL}"}
"""

    type: Literal["teams"]
    """Channel type: `teams` posts an Adaptive Card to a Microsoft Teams Workflows webhook."""
    url: HttpUrl
    """The workflow's HTTP POST URL; write it as `${VAR}`, it is a secret (its `sig`
    parameter lets anyone post)."""


CARD_VERSION = "1.4"  # what Teams renders on every client, mobile included
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
MESSAGE_LIMIT = 28_000  # bytes of the JSON body (Teams refuses messages over 28 KB)
SUBJECT_LIMIT = 256
SUMMARY_LIMIT = 4000
FACT_TITLE_LIMIT = 100
FACT_VALUE_LIMIT = 1000
MAX_FACTS = 25
COLOURS = {Tone.BAD: "Attention", Tone.WARNING: "Warning", Tone.GOOD: "Good", Tone.INFO: "Accent"}
# Emphasis, code, and the `](` that makes a link; brackets alone (`[DOWN]`) stay as they are.
_MARKDOWN = re.compile(r"([\\*_~`]|(?<=\])\()")
_BULLET = re.compile(r"^(\s*)([-+])(\s)", re.MULTILINE)
_NUMBERED = re.compile(r"^(\s*\d+)\.(\s)", re.MULTILINE)


def escape(text: str) -> str:
    """The card's markdown shown as written: emphasis, code, links and list starts escaped."""
    escaped = _MARKDOWN.sub(r"\\\1", text)
    return _NUMBERED.sub(r"\1\\.\2", _BULLET.sub(r"\1\\\2\3", escaped))


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _actions(message: Message) -> list[dict[str, Any]]:
    wanted = [
        ("Acknowledge", message.ack_url, "positive"),
        ("Status page", message.status_page_url, "default"),
    ]
    return [
        {"type": "Action.OpenUrl", "title": title, "url": url, "style": style}
        for title, url, style in wanted
        if url is not None
    ]


def card(
    message: Message, subject: str, summary: str, footer: str, facts: list[tuple[str, str]]
) -> dict[str, Any]:
    body = [
        _text(
            clip(escape(subject), SUBJECT_LIMIT),
            size="Medium",
            weight="Bolder",
            color=COLOURS[tone(message)],
        ),
        _text(clip(escape(summary), SUMMARY_LIMIT)),
        {
            "type": "FactSet",
            "facts": [
                {
                    "title": clip(escape(label), FACT_TITLE_LIMIT),
                    "value": clip(escape(value), FACT_VALUE_LIMIT),
                }
                for label, value in facts[:MAX_FACTS]
            ],
        },
        _text(clip(escape(footer), SUMMARY_LIMIT), size="Small", isSubtle=True),
    ]
    found: dict[str, Any] = {
        "$schema": SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
    }
    actions = _actions(message)
    if actions:
        found["actions"] = actions
    return found


def envelope(content: dict[str, Any]) -> dict[str, Any]:
    attachment = {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "contentUrl": None,
        "content": content,
    }
    return {"type": "message", "attachments": [attachment]}


def encoded(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def payload(message: Message, ctx: SendContext) -> dict[str, Any]:
    """The Workflows message; facts are dropped from the end, then the summary shortened, until
    it fits in 28 KB."""
    subject = ctx.renderer.subject(message)
    summary = ctx.renderer.render("teams.txt", message).strip()
    footer = ctx.renderer.render("footer.txt", message).strip()
    facts = message.facts()[:MAX_FACTS]
    document = envelope(card(message, subject, summary, footer, facts))
    while len(encoded(document)) > MESSAGE_LIMIT and facts:
        facts = facts[:-1]
        document = envelope(card(message, subject, summary, footer, facts))
    while len(encoded(document)) > MESSAGE_LIMIT and summary:
        summary = summary[: len(summary) // 2]
        document = envelope(card(message, subject, summary, footer, facts))
    return document


async def send(message: Message, channel: TeamsChannel, ctx: SendContext) -> Outcome:
    headers = {"Content-Type": "application/json"}
    body = encoded(payload(message, ctx))
    return await post(ctx.http, channel.url, body, headers, ctx.clock())
