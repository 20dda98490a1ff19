"""Regions: K of N agreement on one probe round, as pure functions of the regions' results.

A monitor that lists `regions` is probed from each of them. Its evaluation sees rounds, not the
regions' single results: a round opens with the first fresh result from any listed region and
closes once every live listed region has reported for it, or after `round_wait` (a region whose
probe is still timing out should count, a region that is gone should not hold the round up).
At the close each listed region votes with its latest result no older than 2 × interval; a
region with no live instance, or no fresh result, votes unknown. The round is down when at
least K regions vote down, K being `confirm`, lowered to the number of live listed regions when
fewer are live. A round with no vote other than down, and too few downs, tells nothing: it is
skipped (neither a failure nor a recovery). So `failure_threshold` counts voted rounds, and a
region that is down alone is stored and shown but never pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from upwatch.probes.result import ProbeResult, ProbeState

ROUND_GRACE = timedelta(seconds=2)  # past the probe's timeout: time for its result to be stored


@dataclass(frozen=True, slots=True)
class RegionRule:
    """What the vote of one monitor needs to know about it."""

    regions: tuple[str, ...]
    confirm: int
    interval: timedelta
    timeout: timedelta
    # Rounds open at least this far apart: 0.9 × min(retry_interval, interval), about once
    # per probe of each region, so one region's result is not counted in two rounds when the
    # regions' retry grids drift apart.
    spacing: timedelta

    @property
    def round_wait(self) -> timedelta:
        return min(self.timeout + ROUND_GRACE, 2 * self.spacing)

    @property
    def fresh_for(self) -> timedelta:
        return 2 * self.interval


@dataclass(frozen=True, slots=True)
class Round:
    """A round waiting for the other regions: opened by a result checked at `opened_at`."""

    opened_at: datetime

    def complete(
        self, rule: RegionRule, latest: Mapping[str, ProbeResult], live: frozenset[str]
    ) -> bool:
        """Whether every live listed region has reported for this round (at most half the
        spacing before it opened: the same slot, give or take the regions' timing)."""
        since = self.opened_at - rule.spacing / 2
        return all(
            (found := latest.get(region)) is not None and found.checked_at >= since
            for region in rule.regions
            if region in live
        )

    def due(self, rule: RegionRule, now: datetime) -> bool:
        return now >= self.opened_at + rule.round_wait


def effective_confirm(rule: RegionRule, live: frozenset[str]) -> int:
    """K, or the number of live listed regions when fewer are live (at least 1)."""
    alive = sum(1 for region in rule.regions if region in live)
    return max(1, min(rule.confirm, alive))


def vote(
    rule: RegionRule,
    opened_at: datetime,
    latest: Mapping[str, ProbeResult],
    live: frozenset[str],
) -> ProbeResult | None:
    """The round's result at `opened_at`, or None when the regions' votes tell nothing."""
    fresh = {
        region: result
        for region in rule.regions
        if region in live
        and (result := latest.get(region)) is not None
        and opened_at - result.checked_at <= rule.fresh_for
    }
    down = [region for region, result in fresh.items() if result.is_down]
    if down and len(down) >= effective_confirm(rule, live):
        return _down_from(down, fresh, opened_at)
    standing = [result for result in fresh.values() if not result.is_down]
    if not standing:
        return None
    return replace(_standing(standing, len(down), rule, live), checked_at=opened_at)


def _standing(
    standing: Sequence[ProbeResult], down: int, rule: RegionRule, live: frozenset[str]
) -> ProbeResult:
    """The result a round that is not down reports: degraded (slow, a certificate to renew)
    only when K regions see it degraded or down, as for down; else an up region's, the first
    listed (one slow region does not make the monitor degraded)."""
    degraded = [r for r in standing if r.state is ProbeState.DEGRADED]
    if degraded and len(degraded) + down >= effective_confirm(rule, live):
        return degraded[0]
    return next((r for r in standing if r.state is ProbeState.UP), standing[0])


def _down_from(
    down: Sequence[str], fresh: Mapping[str, ProbeResult], opened_at: datetime
) -> ProbeResult:
    first = fresh[down[0]]
    where = names(down)
    return replace(
        first,
        checked_at=opened_at,
        cause=f"down from {where}: {first.cause or 'down'}",
        public_cause=first.public_cause,
    )


def names(regions: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    if len(regions) <= 1:
        return "".join(regions)
    return f"{', '.join(regions[:-1])} and {regions[-1]}"


class Rounds:
    """The regions' latest results and the open rounds of the monitors one process evaluates.

    Closing is staged: rounds closed in a transaction that fails are open again afterwards, so
    the next flush votes on them once more, with the same or fresher results.
    """

    def __init__(self) -> None:
        self.latest: dict[str, dict[str, ProbeResult]] = {}
        self.pending: dict[str, Round] = {}
        self.last_opened: dict[str, datetime] = {}
        self._closing: dict[str, Round] = {}

    def seen(
        self,
        monitor_id: str,
        region: str,
        result: ProbeResult,
        rule: RegionRule,
        *,
        may_open: bool = True,
    ) -> None:
        """A region's result (each may come more than once): kept if newer; it opens a round
        if `may_open` (it is fresh, and newer than the last round judged) and none is open."""
        latest = self.latest.setdefault(monitor_id, {})
        known = latest.get(region)
        if known is not None and known.checked_at >= result.checked_at:
            return
        latest[region] = result
        if not may_open or monitor_id in self.pending or monitor_id in self._closing:
            return
        last = self.last_opened.get(monitor_id)
        if last is None or result.checked_at - last >= rule.spacing:
            self.pending[monitor_id] = Round(result.checked_at)
            self.last_opened[monitor_id] = result.checked_at

    def close(
        self, rules: Mapping[str, RegionRule], live: frozenset[str], now: datetime
    ) -> list[tuple[str, ProbeResult]]:
        """The results of the rounds complete or due at `now`, in the order they opened."""
        voted: list[tuple[str, ProbeResult]] = []
        ready = sorted(self.pending.items(), key=lambda item: item[1].opened_at)
        for monitor_id, round_ in ready:
            rule = rules.get(monitor_id)
            latest = self.latest.get(monitor_id, {})
            if rule is None:
                del self.pending[monitor_id]
                continue
            if not (round_.complete(rule, latest, live) or round_.due(rule, now)):
                continue
            self._closing[monitor_id] = self.pending.pop(monitor_id)
            result = vote(rule, round_.opened_at, latest, live)
            if result is not None:
                voted.append((monitor_id, result))
        return voted

    def commit(self) -> None:
        self._closing.clear()

    def rollback(self) -> None:
        self.pending.update(self._closing)
        self._closing.clear()

    def forget(self, monitor_ids: Sequence[str]) -> None:
        for monitor_id in monitor_ids:
            self.latest.pop(monitor_id, None)
            self.pending.pop(monitor_id, None)
            self.last_opened.pop(monitor_id, None)
            self._closing.pop(monitor_id, None)
