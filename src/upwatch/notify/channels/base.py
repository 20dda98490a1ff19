"""What every channel module gets to send with, what its config model inherits, and the shape
the registry holds.

Imported by the config models (through the registry), so the message and rendering types are
imported for type checking only: at run time they arrive as arguments."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, get_args

from upwatch.config.fields import Strict
from upwatch.config.secrets import is_url_field, model_secrets, strings_of
from upwatch.notify.channels.http import url_secrets
from upwatch.notify.outcome import Outcome

if TYPE_CHECKING:
    import httpx

    from upwatch.notify.message import Message
    from upwatch.notify.render import Renderer


class ChannelConfig(Strict):
    """A channel type's config model: each channel module defines one, with `type:
    Literal["name"]` and its fields (each with a docstring: the reference docs and JSON Schema
    come from them). Credentials are found by field name (see config/secrets.py); a channel
    whose URL is itself the credential sets `url_is_secret`."""

    url_is_secret: ClassVar[bool] = False
    # Its section of docs/configuration.md: what it does, and a config that uses it (the tests
    # load it). `doc_parts` adds sections for nested models: (title, model, intro, example).
    doc_intro: ClassVar[str] = ""
    doc_example: ClassVar[str] = ""
    doc_parts: ClassVar[tuple[tuple[str, type[Strict], str, str], ...]] = ()

    @classmethod
    def type_name(cls) -> str:
        return str(get_args(cls.model_fields["type"].annotation)[0])

    def secret_values(self) -> set[str]:
        """Every credential in this channel's config, for redacting its errors; a URL that is
        itself the credential counts with its parts (path, query, long path segments), which an
        error may quote without the rest."""
        found = set(model_secrets(self))
        if self.url_is_secret:
            for name in type(self).model_fields:
                if is_url_field(name):
                    for url in strings_of(getattr(self, name)):
                        found |= url_secrets(url)
        return found


@dataclass(frozen=True, slots=True)
class SendContext:
    """Long-lived things a send uses, passed in (no globals).

    `clock` gives the time of this attempt (the webhook timestamp, the email Date). `smtp_tls`
    is the TLS context for SMTP (None: the system's trust store; tests pass their own CA).
    """

    http: httpx.AsyncClient
    renderer: Renderer
    clock: Callable[[], datetime]
    smtp_tls: ssl.SSLContext | None = None
    smtp_timeout: float = 15.0


# `channel` is the channel's config model (a ChannelConfig of its module).
Send = Callable[["Message", Any, SendContext], Awaitable[Outcome]]


@dataclass(frozen=True, slots=True)
class ChannelType:
    """One channel type: its config model and how to send a message through it."""

    model: type[ChannelConfig]
    send: Send
