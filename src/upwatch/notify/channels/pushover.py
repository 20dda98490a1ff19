"""Pushover (https://pushover.net): a push notification to a user's or group's devices.

The API: https://pushover.net/api. A form POST to `{api_base}/1/messages.json` of `token` (the
application's API token), `user` (the user or group key), `title` (at most 250 characters),
`message` (at most 1,024), `url` (at most 512) with `url_title` (at most 100), `priority` and
`timestamp` (the event's time, so the phone shows when it happened, not when it arrived). Text
is sent plain (no `html=1`), so nothing in a cause is read as markup; longer text is cut, not
rejected. `url` is the acknowledge link while someone should act, else the status page.

`priority` follows the message's urgency (see push.py): 1 (high: bypasses quiet hours) for an
incident of a `critical` monitor, 0 for `error` and `warning`, -1 (quiet) for `info`. Never 2
(emergency): it repeats until someone acknowledges in Pushover, which needs `retry` and `expire`
and a receipt to cancel when upwatch's own acknowledgement or the recovery comes; upwatch's
escalation already repeats (`repeat_every`) and stops on acknowledgement.

Answers (https://pushover.net/api#response, https://pushover.net/api#friendly): 200 `{"status":
1}`; 4xx `{"status": 0, "errors": [...]}` for a request Pushover will never accept (an invalid
user key or token): permanent. 429 means the application's monthly message limit is used up
(https://pushover.net/api#limits) until `X-Limit-App-Reset` (unix time, the 1st of next month):
retried at that time when it falls within the day of retries, else permanent, so that
`channel.failed` tells the other channels now instead of after 24 h of futile retries. 5xx and
network errors are retried.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal
from urllib.parse import urlencode

from upwatch.config.fields import HttpUrl, Name
from upwatch.notify.channels import http, push
from upwatch.notify.channels.base import ChannelConfig, SendContext
from upwatch.notify.message import Message
from upwatch.notify.outcome import Outcome
from upwatch.notify.text import clip, one_line, utc

DEFAULT_API_BASE = "https://api.pushover.net"
MESSAGES_PATH = "/1/messages.json"
TITLE_LIMIT, MESSAGE_LIMIT, URL_LIMIT, URL_TITLE_LIMIT = 250, 1024, 512, 100
PRIORITY = {5: 1, 4: 0, 3: 0, 2: -1, 1: -2}  # push.urgency() to Pushover's priority
RETRY_WINDOW = timedelta(hours=24)  # the outbox's; a quota reset later than this is too late


class PushoverChannel(ChannelConfig):
    doc_intro: ClassVar[str] = (
        "Sends a Pushover notification to a user's or group's devices, with its priority from "
        "the monitor's severity and the acknowledge link."
    )
    doc_example: ClassVar[str] = """\
channels:
  oncall-pushover:
    type: pushover
    user_key: "${PUSHOVER_USER_KEY}"
    app_token: "${PUSHOVER_APP_TOKEN}"
    api_base: https://api.pushover.net   # the default; a proxy's scheme and host instead
"""

    type: Literal["pushover"]
    """Channel type: `pushover` sends a Pushover notification."""
    user_key: Name
    """The user key (or a delivery group's key) to notify, from your Pushover dashboard; write
    it as `${VAR}`, it is a secret."""
    app_token: Name
    """The API token of an application you registered at pushover.net/apps; write it as
    `${VAR}`, it is a secret."""
    api_base: HttpUrl = DEFAULT_API_BASE
    """Scheme and host of the Pushover API (`/1/messages.json` is appended), for a proxy."""


def link(message: Message) -> tuple[str, str] | None:
    """The one link Pushover shows: acknowledge while someone should act, else the page."""
    wanted = [("Acknowledge", message.ack_url), ("Status page", message.status_page_url)]
    for label, url in wanted:
        if url and len(url) <= URL_LIMIT:
            return label, url
    return None


def form(message: Message, channel: PushoverChannel, ctx: SendContext) -> dict[str, str]:
    fields = {
        "token": channel.app_token,
        "user": channel.user_key,
        "title": clip(ctx.renderer.subject(message), TITLE_LIMIT),
        "message": clip(push.body(message, ctx, "pushover"), MESSAGE_LIMIT),
        "priority": str(PRIORITY[push.urgency(message)]),
        "timestamp": str(int(message.at.timestamp())),
    }
    found = link(message)
    if found is not None:
        fields["url_title"] = clip(found[0], URL_TITLE_LIMIT)
        fields["url"] = found[1]
    return fields


def _errors(body: bytes) -> str:
    try:
        answer: Any = json.loads(body)
    except ValueError:
        return ""
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if not isinstance(errors, list):
        return ""
    return clip(one_line("; ".join(str(e) for e in errors)), http.SHOWN_ERROR_BODY)


def _quota_reset(headers: Mapping[str, str]) -> datetime | None:
    value = headers.get("x-limit-app-reset", "")
    return datetime.fromtimestamp(int(value), UTC) if value.strip().isdigit() else None


def judge(status: int, headers: Mapping[str, str], body: bytes, now: datetime) -> Outcome:
    """`post()`'s judgement with Pushover's `errors`, and its 429 read as the monthly quota."""
    outcome = http.judge(status, headers, body, now)
    said = _errors(body)
    error = f"HTTP {status}: {said}" if said else outcome.error or f"HTTP {status}"
    if outcome.ok:
        return outcome
    if status != 429:
        return Outcome(False, status, error, outcome.permanent, outcome.retry_after)
    reset = _quota_reset(headers)
    quota = "Pushover's monthly message limit for this application is used up"
    if reset is not None and now < reset <= now + RETRY_WINDOW:
        return Outcome.retry(f"{quota} until {utc(reset)}", status, reset - now)
    until = f" until {utc(reset)}" if reset is not None else ""
    return Outcome.give_up(
        f"{quota}{until}: raise it at pushover.net or use another application", status
    )


async def send(message: Message, channel: PushoverChannel, ctx: SendContext) -> Outcome:
    url = channel.api_base.rstrip("/") + MESSAGES_PATH
    body = urlencode(form(message, channel, ctx)).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return await http.post(ctx.http, url, body, headers, ctx.clock(), judged_by=judge)
