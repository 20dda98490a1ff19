"""Apprise, for the long tail of services: each URL in Apprise's notation (https://appriseit.com,
https://github.com/caronc/apprise/wiki) names one service and carries its credentials.

Apprise is an optional extra (`pip install 'upwatch[apprise]'`; the Docker image has it), imported
only when a config has an apprise channel. It is synchronous underneath: `async_notify` runs its
blocking services in Apprise's own thread pool, so the event loop never waits on them. It reports
only success or failure, so a failure is retried within the 24 h window, never given up on.

Apprise logs the URLs it works with, credentials included, so its logger is silenced before it
is first imported, and nothing it says reaches upwatch's output or a delivery's error.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import importlib.util
import logging
import re
from types import ModuleType
from typing import Annotated, ClassVar, Literal
from urllib.parse import unquote

from pydantic import AfterValidator, Field, field_validator

from upwatch.notify.channels.base import ChannelConfig, SendContext
from upwatch.notify.message import Message
from upwatch.notify.outcome import Outcome
from upwatch.notify.tone import Tone, tone

MISSING = (
    "the apprise channel needs the optional apprise package: pip install 'upwatch[apprise]' "
    "(the Docker image has it)"
)
# Apprise's notify types colour or label the message in services that show them.
NOTIFY_TYPES = {Tone.BAD: "failure", Tone.WARNING: "warning", Tone.GOOD: "success"}
SHORTEST_SECRET = 4  # shorter pieces of a URL (`www`, a port) would be starred everywhere


def _understood(url: str) -> str:
    """Each URL is checked where it is written (a `${VAR}` not yet set waits for its value)."""
    if installed() and library().Apprise.instantiate(url, suppress_exceptions=True) is None:
        raise ValueError(  # never the URL itself: it is a credential
            f"Apprise does not recognise this URL ({scheme(url)}); check it against "
            "https://github.com/caronc/apprise/wiki"
        )
    return url  # without apprise, `type` says what is missing


AppriseUrl = Annotated[str, AfterValidator(_understood)]


class AppriseChannel(ChannelConfig):
    url_is_secret: ClassVar[bool] = True  # every Apprise URL carries the service's credentials
    doc_intro: ClassVar[str] = (
        "Sends through Apprise (https://appriseit.com) to any of the services it supports, one "
        "Apprise URL each. Needs the optional apprise package: `pip install 'upwatch[apprise]'` "
        "(the Docker image has it)."
    )
    doc_example: ClassVar[str] = """\
channels:
  long-tail:
    type: apprise
    urls: ["${APPRISE_MATRIX_URL}", "${APPRISE_TELEGRAM_URL}"]
"""
    type: Literal["apprise"]
    """Channel type: `apprise` sends through Apprise to each of `urls`."""
    urls: Annotated[list[AppriseUrl], Field(min_length=1)]
    """Apprise URLs, one per service, such as `tgram://bottoken/chatid` (see Apprise's wiki);
    each holds the service's credentials: write them as `${VAR}`."""

    @field_validator("type")
    @classmethod
    def _installed(cls, value: str) -> str:
        if not installed():
            raise ValueError(MISSING)
        return value

    def secret_values(self) -> set[str]:
        found = super().secret_values()
        for url in self.urls:
            found |= url_pieces(url)
        return found


def installed() -> bool:
    return importlib.util.find_spec("apprise") is not None


@functools.cache
def library() -> ModuleType:
    """The apprise package, imported on first use with its logger silenced first: its messages
    quote URLs, and a logger with no handler would fall back to printing on stderr."""
    quiet = logging.getLogger("apprise")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    quiet.disabled = True
    quiet.setLevel(logging.CRITICAL + 1)
    return importlib.import_module("apprise")


def scheme(url: str) -> str:
    found = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", url)
    return f"{found.group(1).lower()}://" if found else "no scheme"


def url_pieces(url: str) -> set[str]:
    """The URL and every piece of it: Apprise URLs put tokens anywhere, the host included
    (`tgram://{bot_token}/{chat_id}`, `discord://{id}/{token}`)."""
    rest = url.split("://", 1)[-1]
    pieces = {url, rest, *re.split(r"[/@:?&=#,]+", rest)}
    pieces |= {unquote(p) for p in pieces}
    return {p for p in pieces if len(p) >= SHORTEST_SECRET}


async def notify_one(url: str, title: str, body: str, notify_type: str) -> bool:
    apprise = library()
    sender = apprise.Apprise(asset=apprise.AppriseAsset(app_id="upwatch", app_desc="upwatch"))
    if not sender.add(url):
        return False
    try:
        result = await sender.async_notify(
            body=body, title=title, notify_type=notify_type, body_format="text"
        )
    except Exception:  # Apprise reports failures as False; anything it raises is one too
        return False
    return bool(result)


async def send(message: Message, channel: AppriseChannel, ctx: SendContext) -> Outcome:
    title = ctx.renderer.subject(message)
    body = ctx.renderer.text(message)
    notify_type = NOTIFY_TYPES.get(tone(message), "info")
    # One Apprise per URL, so a failure can name the URL (by its place) that failed.
    delivered = await asyncio.gather(
        *(notify_one(url, title, body, notify_type) for url in channel.urls)
    )
    failed = [f"urls[{i}] ({scheme(channel.urls[i])})" for i, ok in enumerate(delivered) if not ok]
    count = len(channel.urls)
    if not failed:
        return Outcome.delivered(None, f"Apprise notified {count} URL{'s' if count > 1 else ''}")
    return Outcome.retry(
        f"Apprise could not notify {', '.join(failed)} of {count} (Apprise gives no reason; "
        "try that URL with the `apprise` command-line tool)"
    )
