"""Sending one message through one configured channel: the registry lookup, a hard timeout, and
errors as data with every secret of the channel and the config redacted.
"""

from __future__ import annotations

import asyncio
import time

import structlog

from upwatch.config.loader import LoadedConfig
from upwatch.config.shown import redact
from upwatch.notify.channels.base import SendContext
from upwatch.notify.channels.registry import CHANNEL_TYPES
from upwatch.notify.message import Message
from upwatch.notify.outcome import Outcome

log = structlog.get_logger("upwatch.notify")
SEND_TIMEOUT = 20.0  # seconds for one attempt, connection to answer; well inside the lease


def channel_secrets(name: str, loaded: LoadedConfig) -> frozenset[str]:
    """Every value that must not appear in an error: the channel's URL, keys, passwords."""
    channel = loaded.config.channels.get(name)
    found = set(loaded.secrets)
    if channel is not None:
        found |= channel.secret_values()
    return frozenset(s for s in found if s)


async def deliver(
    message: Message, loaded: LoadedConfig, ctx: SendContext, send_timeout: float = SEND_TIMEOUT
) -> Outcome:
    started = time.perf_counter()
    outcome = await _send(message, loaded, ctx, send_timeout)
    secrets = channel_secrets(message.channel, loaded)
    return outcome.redacted(lambda text: redact(text, secrets)).timed(
        (time.perf_counter() - started) * 1000
    )


async def _send(
    message: Message, loaded: LoadedConfig, ctx: SendContext, send_timeout: float
) -> Outcome:
    channel = loaded.config.channels.get(message.channel)
    if channel is None:
        return Outcome.give_up(
            f"channel '{message.channel}' is no longer in the config, so this message "
            "cannot be sent"
        )
    try:
        async with asyncio.timeout(send_timeout):
            return await CHANNEL_TYPES[channel.type_name()].send(message, channel, ctx)
    except TimeoutError:
        return Outcome.retry(f"no answer within {send_timeout:g}s")
    except Exception as exc:  # a bug in a channel must not stop the worker or lose the message
        log.error("sending failed unexpectedly", channel=message.channel, error=type(exc).__name__)
        return Outcome.retry(f"internal error while sending ({type(exc).__name__})")
