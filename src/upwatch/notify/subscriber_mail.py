"""Mail to one subscriber: the confirmation link, and public news of public incidents.

Sent through the email channel `status_page.subscriptions.email_channel` names, to the
subscriber alone (never the channel's `to`, never with other subscribers). Incident messages
carry RFC 8058 one-click unsubscribe headers and public words only: the monitor's name, the
public cause, times; no acknowledge link and no technical cause. Errors are redacted of the
address before they reach the outbox, a log line or anything else.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment

from upwatch.config.loader import LoadedConfig
from upwatch.config.shown import redact
from upwatch.notify.channels import email
from upwatch.notify.channels.base import SendContext
from upwatch.notify.channels.email_api import Mail, send_api
from upwatch.notify.dispatch import channel_secrets
from upwatch.notify.outcome import Outcome
from upwatch.notify.render import environment, shipped_dir
from upwatch.notify.subscriber_links import confirm_token, link, unsubscribe_token
from upwatch.notify.text import duration, utc
from upwatch.store.subscribers import CONFIRM_EVENT

SUBJECTS = {
    CONFIRM_EVENT: "Confirm your subscription to {title}",
    "incident.opened": "[{title}] {name}: incident",
    "incident.updated": "[{title}] {name}: update",
    "incident.resolved": "[{title}] {name}: resolved",
}


@dataclass(frozen=True, slots=True)
class SubscriberNote:
    """What the worker knows of one subscriber row."""

    key: str
    event: str
    subscriber_id: int
    address: str
    monitor_name: str | None
    payload: dict[str, Any]


@functools.cache
def _templates() -> Environment:
    return environment([shipped_dir()])


def compose(note: SubscriberNote, loaded: LoadedConfig, secret_key: str) -> Mail:
    config = loaded.shown()
    channel = _channel(loaded)
    assert channel is not None
    assert config.status_page.public_url is not None
    base = config.status_page.public_url
    title = config.status_page.title
    context = _context(note, secret_key, base, title)
    domain = channel.from_.rpartition("@")[2]
    digest = hashlib.sha256(note.key.encode()).hexdigest()[:32]
    headers = {
        "Message-ID": f"<{digest}@{domain}>",
        "Auto-Submitted": "auto-generated",
        "X-Upwatch-Event": note.event,
    }
    if note.event != CONFIRM_EVENT:
        # RFC 8058: a POST with `List-Unsubscribe=One-Click` to the https link unsubscribes.
        headers["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    templates = _templates()
    return Mail(
        sender=channel.from_,
        to=(note.address,),
        subject=SUBJECTS[note.event].format(title=title, name=context["name"]),
        text=templates.get_template("subscriber.txt").render(context),
        html=templates.get_template("subscriber.html").render(context),
        headers=headers,
    )


def _context(note: SubscriberNote, secret_key: str, base: str, title: str) -> dict[str, Any]:
    payload = note.payload
    started = _time(payload.get("started_at"))
    resolved = _time(payload.get("resolved_at"))
    issued = _time(payload.get("issued_at"))
    subscriber = note.subscriber_id
    confirm = None if issued is None else confirm_token(secret_key, subscriber, issued)
    return {
        "event": note.event,
        "title": title,
        "name": payload.get("title") or note.monitor_name or "A service",
        "cause": payload.get("cause"),
        "started": None if started is None else utc(started),
        "resolved": None if resolved is None else utc(resolved),
        "lasted": None if started is None or resolved is None else duration(resolved - started),
        "update": payload.get("body"),
        "status": payload.get("status"),
        "status_page_url": base.rstrip("/") + "/",
        "confirm_url": None if confirm is None else link(base, "subscribe/confirm", confirm),
        "unsubscribe_url": link(base, "unsubscribe", unsubscribe_token(secret_key, subscriber)),
    }


def _time(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _channel(loaded: LoadedConfig) -> email.EmailChannel | None:
    subscriptions = loaded.config.status_page.subscriptions
    if subscriptions is None:
        return None
    channel = loaded.config.channels.get(subscriptions.email_channel)
    return channel if isinstance(channel, email.EmailChannel) else None


def problem(loaded: LoadedConfig, secret_key: str | None) -> str | None:
    """Why subscriber mail cannot be sent now; None when it can."""
    if _channel(loaded) is None:
        return "subscriptions are turned off (status_page.subscriptions)"
    if secret_key is None or loaded.config.status_page.public_url is None:
        return "subscriber mail needs UPWATCH_SECRET_KEY and status_page.public_url for its links"
    return None


async def send(
    note: SubscriberNote,
    loaded: LoadedConfig,
    secret_key: str | None,
    ctx: SendContext,
    send_timeout: float,
) -> Outcome:
    started = time.perf_counter()
    outcome = await _send(note, loaded, secret_key, ctx, send_timeout)
    subscriptions = loaded.config.status_page.subscriptions
    name = "" if subscriptions is None else subscriptions.email_channel
    secrets = channel_secrets(name, loaded) | {note.address}
    return outcome.redacted(lambda text: redact(text, secrets)).timed(
        (time.perf_counter() - started) * 1000
    )


async def _send(
    note: SubscriberNote,
    loaded: LoadedConfig,
    secret_key: str | None,
    ctx: SendContext,
    send_timeout: float,
) -> Outcome:
    why = problem(loaded, secret_key)
    if why is not None:
        return Outcome.give_up(why)
    assert secret_key is not None
    channel = _channel(loaded)
    assert channel is not None
    mail = compose(note, loaded, secret_key)
    try:
        async with asyncio.timeout(send_timeout):
            if channel.api is not None:
                api = channel.api
                return await send_api(
                    ctx.http, api.provider, api.api_key, mail, now=ctx.clock(), base=api.api_base
                )
            assert channel.smtp_url is not None
            target = email.parse_smtp_url(channel.smtp_url)
            return await email.send_smtp(email.mime(mail, ctx), target, ctx)
    except TimeoutError:
        return Outcome.retry(f"no answer within {send_timeout:g}s")
