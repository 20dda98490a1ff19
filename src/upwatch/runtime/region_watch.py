"""Which regions have a live instance, and telling people once when a region goes or comes back.

Every instance reports its own region each step and reads which regions are live (an instance
of theirs beat within the coordination's LIVE_WITHIN): the evaluator counts a region that is not
live as an unknown vote at once. The `region.unavailable` notice waits longer, until the region
has been silent for UNAVAILABLE_AFTER, so a redeploy that replaces a region's only instance
tells nobody; whichever instance flips the region's row enqueues the notice, in the same
transaction, so it is sent exactly once however many instances saw it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from upwatch.config.models import Config, MonitorBase
from upwatch.engine.context import policy_steps
from upwatch.engine.model import EventType, Notice
from upwatch.runtime.coordination import LIVE_WITHIN
from upwatch.store import regions as store
from upwatch.store.outbox import enqueue

log = structlog.get_logger("upwatch.regions")
UNAVAILABLE_AFTER = timedelta(seconds=30)


def listed_regions(config: Config) -> list[str]:
    """The regions the config's monitors list, in the order they first appear."""
    seen: dict[str, None] = {}
    for monitor in config.monitors:
        for region in monitor.regions or ():
            seen.setdefault(region, None)
    return list(seen)


def notice_channels(config: Config, region: str) -> tuple[str, ...]:
    """The first step's channels of the `default` policy, else of the policy of the first
    monitor that lists `region`."""
    name: str | None = "default" if "default" in config.escalations else None
    if name is None:
        listing = next((m for m in config.monitors if region in (m.regions or ())), None)
        name = None if listing is None else listing.escalation_policy
    steps = policy_steps(config, name)
    return steps[0].channels if steps else ()


def region_notices(config: Config, region: str, event: EventType, at: datetime) -> list[Notice]:
    if event is EventType.REGION_UNAVAILABLE:
        cause = f"no live upwatch instance in {region} for 30s: its probes count as unknown"
    else:
        cause = f"{region} has a live upwatch instance again: it probes and votes"
    data = {"region": region, "cause": cause, "at": at.isoformat()}
    return [
        Notice(event, channel, None, at, data=data, subject=f"region:{region}:{at.isoformat()}")
        for channel in notice_channels(config, region)
    ]


class RegionWatch:
    def __init__(
        self,
        engine: AsyncEngine,
        region: str,
        *,
        clock: Callable[[], datetime],
        config: Callable[[], Config],
    ) -> None:
        self.engine = engine
        self.region = region
        self.clock = clock
        self.config = config
        self.started = clock()
        # `live`: the regions that vote (all listed ones while this instance is new);
        # `beating`: those with an instance that beat lately, for notices, pages and metrics.
        self.live: frozenset[str] = frozenset({region, *listed_regions(config())})
        self.beating: frozenset[str] = frozenset({region})
        self._lowered: set[tuple[tuple[str, ...], int]] = set()

    async def warn_unknown(self) -> None:
        """At start: a listed region no instance has ever reported is probably misspelt."""
        async with self.engine.begin() as connection:
            known = await store.known_regions(connection)
        for region in listed_regions(self.config()):
            if region != self.region and region not in known:
                log.warning(
                    "no instance has ever reported this region: check its name against "
                    "UPWATCH_REGION of the instances meant to probe from it",
                    region=region,
                )

    async def step(self) -> None:
        now = self.clock()
        async with self.engine.begin() as connection:
            await store.seen(connection, self.region, now)
            self.beating = await store.live_regions(connection, now, LIVE_WITHIN) | {self.region}
            live = self.beating
            if now - self.started < UNAVAILABLE_AFTER:
                # Just started: the other regions' instances may not have beaten yet. Until
                # they had time to, every listed region counts as live for the vote, so
                # `confirm` is never lowered (nothing confirmed by fewer regions) for want of
                # patience. What is announced and shown goes by the beats alone.
                live |= set(listed_regions(self.config()))
            self.live = live
            await self._announce(connection, now)
        self._warn_lowered()

    async def _announce(self, connection: AsyncConnection, now: datetime) -> None:
        config = self.config()
        settled = now - self.started >= UNAVAILABLE_AFTER  # others had time to report
        known = await store.known_regions(connection)
        for region in listed_regions(config):
            found = known.get(region)
            if found is None:
                continue
            silent = found.last_seen_at < now - UNAVAILABLE_AFTER
            if found.available and silent and region not in self.beating and settled:
                await self._flip(connection, config, region, EventType.REGION_UNAVAILABLE, now)
            elif not found.available and region in self.beating:
                await self._flip(connection, config, region, EventType.REGION_AVAILABLE, now)

    async def _flip(
        self,
        connection: AsyncConnection,
        config: Config,
        region: str,
        event: EventType,
        at: datetime,
    ) -> None:
        available = event is EventType.REGION_AVAILABLE
        if await store.flip(connection, region, available=available, now=at):
            await enqueue(connection, region_notices(config, region, event, at), at)
            if available:
                log.info("region available again", region=region)
            else:
                log.warning("region unavailable: it votes unknown until back", region=region)

    def _warn_lowered(self) -> None:
        """Once per set of regions: fewer listed regions are live than `confirm` asks for."""
        for regions, confirm in _quorums(self.config().monitors):
            alive = sum(1 for r in regions if r in self.live)
            key = (regions, confirm)
            if alive < confirm and key not in self._lowered:
                self._lowered.add(key)
                log.warning(
                    "fewer regions live than confirm asks: confirming with the live ones",
                    regions=list(regions),
                    confirm=confirm,
                    live=alive,
                )
            elif alive >= confirm:
                self._lowered.discard(key)


def _quorums(monitors: Iterable[MonitorBase]) -> set[tuple[tuple[str, ...], int]]:
    return {(tuple(m.regions), m.quorum) for m in monitors if m.regions}
