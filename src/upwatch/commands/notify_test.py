"""`upwatch notify-test CHANNEL`: send a test message through one channel now, report the result.

No database is needed: the message is rendered and sent directly, with the same code, timeout
and error handling as the daemon's delivery worker. Exit 0 delivered, 1 not delivered, 2 unknown
channel or invalid config.
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import sys
from dataclasses import replace
from datetime import UTC, datetime

from upwatch.config.loader import LoadedConfig, Needs, load_config
from upwatch.errors import UsageError
from upwatch.notify.channels.base import SendContext
from upwatch.notify.compose import notify_test_message
from upwatch.notify.dispatch import deliver
from upwatch.notify.outcome import Outcome
from upwatch.notify.render import Renderer
from upwatch.notify.worker import http_client


def utcnow() -> datetime:
    return datetime.now(UTC)


def run_notify_test(args: argparse.Namespace) -> int:
    # Only this channel's variables must be set: testing it needs no other channel's secret.
    loaded = load_config(args.config, needs=Needs(channel=args.channel))
    channel = loaded.config.channels.get(args.channel)
    if channel is None:
        known = ", ".join(sorted(loaded.config.channels)) or "none; add one under `channels:`"
        raise UsageError(f"no channel '{args.channel}' in {args.config} (channels: {known})")
    outcome = asyncio.run(send_test(args.channel, _without_stand_ins(loaded)))
    return report(args.channel, channel.type_name(), outcome)


def _without_stand_ins(loaded: LoadedConfig) -> LoadedConfig:
    """No link to a made-up status page when `public_url` waits for a variable nobody set."""
    if ("status_page", "public_url") not in loaded.unset:
        return loaded
    page = loaded.config.status_page.model_copy(update={"public_url": None})
    return replace(loaded, config=loaded.config.model_copy(update={"status_page": page}))


async def send_test(
    channel: str,
    loaded: LoadedConfig,
    *,
    smtp_tls: ssl.SSLContext | None = None,
) -> Outcome:
    """Send the test message through `channel` (tests pass their own CA)."""
    async with http_client() as http:
        ctx = SendContext(
            http=http,
            renderer=Renderer.for_config(loaded),
            clock=utcnow,
            smtp_tls=smtp_tls,
        )
        return await deliver(notify_test_message(channel, loaded, utcnow()), loaded, ctx)


def report(channel: str, kind: str, outcome: Outcome) -> int:
    took = "" if outcome.duration_ms is None else f" in {outcome.duration_ms:.0f} ms"
    if outcome.ok:
        print(f"ok: test message delivered through {channel} ({kind}: {outcome.detail}{took})")
        return 0
    hint = (
        " — the receiver refused it for good: check the channel's settings"
        if outcome.permanent
        else " — upwatch would retry this for up to 24 h"
    )
    print(
        f"upwatch: {channel} ({kind}): not delivered{took}: {outcome.error}{hint}", file=sys.stderr
    )
    return 1
