"""Google Chat incoming webhooks: one text message, at most 4,096 characters.

The request: https://developers.google.com/workspace/chat/quickstart/webhooks (a POST of
`{"text": ...}` to `https://chat.googleapis.com/v1/spaces/<space>/messages?key=…&token=…`;
the URL is the credential). Text formatting:
https://developers.google.com/workspace/chat/format-messages (`*bold*`, `_italic_`, links as
`<url|text>`, mentions as `<users/…>` and `<users/all>`). Chat has no escape character, so in
names, causes and the summary `<` and `>` become `‹` and `›`: nothing we quote can mention
anyone or turn into a link. The message is cut to 4,096 characters, keeping the links.

Limits: https://developers.google.com/workspace/chat/limits (a space takes about one message a
second; beyond it, 429 `RESOURCE_EXHAUSTED`, retried with backoff or after `Retry-After` when
given). 400 (a message it cannot read), 401/403 (a revoked key or token) and 404 (a deleted
space or webhook) are permanent.
"""

from __future__ import annotations

import json
from typing import ClassVar, Literal

from upwatch.config.fields import HttpUrl
from upwatch.notify.channels.base import ChannelConfig, SendContext
from upwatch.notify.channels.http import post
from upwatch.notify.message import Message
from upwatch.notify.outcome import Outcome
from upwatch.notify.text import clip, one_line


class GoogleChatChannel(ChannelConfig):
    url_is_secret: ClassVar[bool] = True  # its `key` and `token` let anyone post
    doc_intro: ClassVar[str] = (
        "Posts a message to a Google Chat space through an incoming webhook (in the space: "
        "Apps & integrations → Webhooks → Add webhook, then copy its URL)."
    )
    doc_example: ClassVar[str] = """\
channels:
  team-chat: {type: google_chat, url: "${GOOGLE_CHAT_WEBHOOK_URL}"}
"""

    type: Literal["google_chat"]
    """Channel type: `google_chat` posts to a Google Chat incoming webhook."""
    url: HttpUrl
    """The webhook URL (`https://chat.googleapis.com/v1/spaces/…/messages?key=…&token=…`);
    write it as `${VAR}`, it is a secret."""


TEXT_LIMIT = 4096
SUBJECT_LIMIT = 300
FACT_LIMIT = 500


def neutralise(text: str) -> str:
    """Angle brackets as look-alikes, so `<users/all>` or `<https://x|y>` is shown, not run."""
    return text.replace("<", "‹").replace(">", "›")


def _link(url: str, label: str) -> str:
    # `|` and `>` would end the link early; percent-encoded, it is the same URL.
    return f"<{url.replace('|', '%7C').replace('>', '%3E')}|{label}>"


def _links(message: Message) -> str:
    wanted = [("Acknowledge", message.ack_url), ("Status page", message.status_page_url)]
    return " · ".join(_link(url, label) for label, url in wanted if url is not None)


def text(message: Message, subject: str, summary: str, footer: str) -> str:
    """Subject in bold, summary, one line per fact, links, footer; the middle is cut when the
    whole would pass 4,096 characters."""
    head = f"*{clip(neutralise(one_line(subject)), SUBJECT_LIMIT)}*"
    facts = [
        f"*{neutralise(label)}:* {clip(neutralise(one_line(value)), FACT_LIMIT)}"
        for label, value in message.facts()
    ]
    middle = "\n".join([neutralise(summary), "", *facts])
    tail = "\n".join(part for part in (_links(message), f"_{neutralise(footer)}_") if part)
    room = TEXT_LIMIT - len(head) - len(tail) - 4
    return f"{head}\n{clip(middle, max(room, 0))}\n\n{tail}"[:TEXT_LIMIT]


async def send(message: Message, channel: GoogleChatChannel, ctx: SendContext) -> Outcome:
    subject = ctx.renderer.subject(message)
    summary = ctx.renderer.render("google_chat.txt", message).strip()
    footer = ctx.renderer.render("footer.txt", message).strip()
    document = {"text": text(message, subject, summary, footer)}
    body = json.dumps(document, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=UTF-8"}
    return await post(ctx.http, channel.url, body, headers, ctx.clock())
