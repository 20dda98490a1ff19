"""Telegram bots: the Bot API's `sendMessage` (https://core.telegram.org/bots/api#sendmessage).

A POST of JSON `{chat_id, text, parse_mode: "HTML", disable_web_page_preview: true,
reply_markup: {inline_keyboard: [[{text, url}, ...]]}}` to `{api_base}/bot<token>/sendMessage`.
`text` is 1-4096 characters after entities are parsed; HTML mode knows only Telegram's few tags
(<b>, <i>, <u>, <s>, <a href>, <code>, <pre>, <blockquote>) and wants every `<`, `>` and `&` of
the text itself escaped (https://core.telegram.org/bots/api#html-style): the title is bold, the
rest is escaped plain text, cut (never rejected) so that even its escaped form fits. The links
are URL buttons (https://core.telegram.org/bots/api#inlinekeyboardbutton).
`disable_web_page_preview` is still accepted beside its newer spelling `link_preview_options`.

Answers are `{"ok": false, "error_code", "description", "parameters"}`
(https://core.telegram.org/bots/api#making-requests). 429 is flood control and names its delay in
`parameters.retry_after` (https://core.telegram.org/bots/api#responseparameters,
https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this), honoured as
the retry delay; 400 (chat not found), 401 (token revoked) and 403 (bot blocked or removed) are
permanent; 5xx are retried. Telegram refuses a button whose URL it deems invalid (a status page on
`localhost`), so such a message is sent again with the links written in its text instead.

The bot token is in the URL's path: `post()` never quotes the URL, and the dispatcher redacts the
token (a `*_token` field) from every error.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from upwatch.config.fields import HttpUrl, Name
from upwatch.notify.channels import http, push
from upwatch.notify.channels.base import ChannelConfig, SendContext
from upwatch.notify.message import Message
from upwatch.notify.outcome import Outcome
from upwatch.notify.text import clip, one_line

DEFAULT_API_BASE = "https://api.telegram.org"
TEXT_LIMIT = 4096
TITLE_LIMIT = 256  # ours: a title longer than this reads as body text on a phone
BUTTON_REFUSED = "button"  # in the description of a 400 about an inline keyboard button


class TelegramChannel(ChannelConfig):
    doc_intro: ClassVar[str] = (
        "Sends a message through a Telegram bot to a chat, group or channel, with "
        '"Acknowledge" and "Status page" buttons.'
    )
    doc_example: ClassVar[str] = """\
channels:
  ops-telegram:
    type: telegram
    bot_token: "${TELEGRAM_BOT_TOKEN}"
    chat_id: -1001234567890
  ops-telegram-local:
    type: telegram
    bot_token: "${TELEGRAM_BOT_TOKEN}"
    chat_id: "@acme_status"
    api_base: http://telegram-bot-api:8081   # a local Bot API server
"""

    type: Literal["telegram"]
    """Channel type: `telegram` sends through a Telegram bot."""
    bot_token: Name
    """The bot's token from @BotFather (`123456789:AA...`); write it as `${VAR}`, it is a
    secret."""
    chat_id: int | Name
    """The chat to write to: a user's or group's numeric id (groups and channels are negative,
    `-100...`) or a public channel's `@username`. The bot must be a member of it."""
    api_base: HttpUrl = DEFAULT_API_BASE
    """Scheme and host of the Bot API (`/bot<token>/sendMessage` is appended): a local Bot API
    server, or a proxy."""


def _units(text: str) -> int:
    # Telegram counts in UTF-16 code units; counting the escaped text is the safe side.
    return len(text.encode("utf-16-le")) // 2


def escaped_within(plain: str, limit: int) -> str:
    """`plain` HTML-escaped, cut before escaping (no entity cut in half) to fit `limit`."""
    escaped = html.escape(plain, quote=False)
    if _units(escaped) <= limit:
        return escaped
    cut = plain
    while _units(html.escape(cut, quote=False)) + 1 > limit:
        cut = cut[: len(cut) - (_units(html.escape(cut, quote=False)) + 1 - limit)]
    return html.escape(cut, quote=False) + "…"


def links(message: Message) -> list[tuple[str, str]]:
    wanted = [("Acknowledge", message.ack_url), ("Status page", message.status_page_url)]
    return [(label, url) for label, url in wanted if url]


def text(subject: str, body: str, written_links: list[tuple[str, str]]) -> str:
    head = f"<b>{html.escape(clip(one_line(subject), TITLE_LIMIT), quote=False)}</b>\n\n"
    tail = "".join(f"\n\n{label}: {html.escape(url, quote=False)}" for label, url in written_links)
    return head + escaped_within(body, TEXT_LIMIT - _units(head) - _units(tail)) + tail


def payload(
    message: Message, channel: TelegramChannel, ctx: SendContext, *, buttons: bool
) -> bytes:
    """The sendMessage request; without `buttons`, the links are written in the text."""
    found = links(message)
    subject, body = ctx.renderer.subject(message), push.body(message, ctx, "telegram")
    document: dict[str, Any] = {
        "chat_id": channel.chat_id,
        "text": text(subject, body, [] if buttons else found),
        "parse_mode": "HTML",
        "disable_web_page_preview": True,
    }
    if buttons and found:
        row = [{"text": label, "url": url} for label, url in found]
        document["reply_markup"] = {"inline_keyboard": [row]}
    return json.dumps(document, ensure_ascii=False).encode()


def _answer(body: bytes) -> dict[str, Any]:
    try:
        found = json.loads(body)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def judge(status: int, headers: Mapping[str, str], body: bytes, now: datetime) -> Outcome:
    """`post()`'s judgement, with Telegram's words and its own rate-limit delay."""
    outcome = http.judge(status, headers, body, now)
    if outcome.ok:
        return outcome
    answer = _answer(body)
    parameters = answer.get("parameters") or {}
    said = one_line(str(answer.get("description") or ""))
    error = f"HTTP {status}: {clip(said, http.SHOWN_ERROR_BODY)}" if said else outcome.error
    moved = parameters.get("migrate_to_chat_id")
    if moved is not None:
        error = f"{error} (the group is now a supergroup: set chat_id to {moved})"
    delay = parameters.get("retry_after")
    if status == 429 and isinstance(delay, int):
        return Outcome.retry(error or f"HTTP {status}", status, timedelta(seconds=delay))
    return replace(outcome, error=error)


def _button_refused(outcome: Outcome) -> bool:
    return outcome.status_code == 400 and BUTTON_REFUSED in (outcome.error or "").lower()


async def send(message: Message, channel: TelegramChannel, ctx: SendContext) -> Outcome:
    url = f"{channel.api_base.rstrip('/')}/bot{channel.bot_token}/sendMessage"
    headers = {"Content-Type": "application/json; charset=utf-8"}
    outcome = await http.post(
        ctx.http,
        url,
        payload(message, channel, ctx, buttons=True),
        headers,
        ctx.clock(),
        judged_by=judge,
    )
    if _button_refused(outcome):
        body = payload(message, channel, ctx, buttons=False)
        return await http.post(ctx.http, url, body, headers, ctx.clock(), judged_by=judge)
    return outcome
