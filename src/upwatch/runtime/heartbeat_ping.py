"""UPWATCH_HEARTBEAT_URL: a dead-man's switch pinged every minute while upwatch is healthy."""

from __future__ import annotations

import asyncio

import httpx
import structlog

from upwatch.runtime.health import Health

log = structlog.get_logger("upwatch.heartbeat")
EVERY_SECONDS = 60.0


async def ping_forever(url: str, health: Health, every: float = EVERY_SECONDS) -> None:
    """Ping as soon as upwatch is healthy, then every `every` seconds while it stays healthy."""
    async with httpx.AsyncClient(timeout=10.0, trust_env=False) as client:
        while True:
            if health.healthy():
                await _ping(client, url)
                await asyncio.sleep(every)
            else:
                await asyncio.sleep(1.0)  # starting, or stalled: ping again once healthy


async def _ping(client: httpx.AsyncClient, url: str) -> None:
    try:
        response = await client.get(url)
    except httpx.HTTPError as exc:
        # The URL may carry a token: log the failure's kind, never the URL.
        log.warning("heartbeat ping failed", error=type(exc).__name__)
        return
    if response.status_code >= 400:
        log.warning("heartbeat ping rejected", status=response.status_code)
