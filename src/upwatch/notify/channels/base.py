"""What every channel module gets to send with, and the shape the registry holds."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from upwatch.notify.message import Message
from upwatch.notify.outcome import Outcome
from upwatch.notify.render import Renderer


@dataclass(frozen=True, slots=True)
class SendContext:
    """Long-lived things a send uses, passed in (no globals).

    `clock` gives the time of this attempt (the webhook timestamp, the email Date). `smtp_tls`
    is the TLS context for SMTP (None: the system's trust store; tests pass their own CA).
    `email_api_bases` overrides the email APIs' hosts (tests point them at a local receiver).
    """

    http: httpx.AsyncClient
    renderer: Renderer
    clock: Callable[[], datetime]
    smtp_tls: ssl.SSLContext | None = None
    email_api_bases: Mapping[str, str] | None = None
    smtp_timeout: float = 15.0


# `channel` is the channel's config model (SlackChannel, EmailChannel, WebhookChannel).
Send = Callable[[Message, Any, SendContext], Awaitable[Outcome]]
Secrets = Callable[[Any], set[str]]


@dataclass(frozen=True, slots=True)
class ChannelType:
    """One channel type: how to send a message, and which config values are secret."""

    send: Send
    secrets: Secrets
