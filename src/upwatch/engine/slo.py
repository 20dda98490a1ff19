"""Service level objectives: error budget and burn rates from bad time, as pure functions of `now`.

The SLI is the uptime of engine/uptime.py: incident time outside maintenance, paused and archived
periods is bad; everything else is good (degraded results open no incident, so degraded is good).

- budget = (1 - target) x window; budget left = budget - bad time in `[now - window, now)`. It goes
  negative once the budget is overspent (and the percentage below 0): an overspent budget is
  shown as such, never clamped to 0, so the figure keeps saying how far off the objective is.
- burn(W) = bad time in `[now - W, now)` / ((1 - target) x W): 1 spends the budget exactly over the
  window, 14.4 spends 2 % of a 30-day budget in an hour. Every W has its fixed length, never
  clipped to the monitor's age, so a monitor down from its first probe reaches burn(1h) > 14.4
  only when it has been bad for 14.4 minutes' worth of budget (after 43.2 minutes at burn 20).

The alert rule is Google's multiwindow, multi-burn-rate alert (SRE workbook, "Alerting on SLOs",
https://sre.google/workbook/alerting-on-slos/): a long window proves the burn is significant, a
short one that it is still going on, so the alert clears soon after the bleeding stops.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from upwatch.config.models import Slo
from upwatch.engine.uptime import Interval, OpenInterval, covered, merge, outside

BURN_WINDOWS: Mapping[str, timedelta] = {
    "5m": timedelta(minutes=5),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "3d": timedelta(days=3),
}
SHOWN_BURN_WINDOWS = ("1h", "6h", "3d")  # the page and the JSON API; /metrics has all five

BURN_FAST = "slo.burn_fast"
BURN_SLOW = "slo.burn_slow"
EXHAUSTED = "slo.exhausted"
# (kind, burn rate to exceed, long window, short window)
BURN_RULES = ((BURN_FAST, 14.4, "1h", "5m"), (BURN_SLOW, 6.0, "6h", "30m"))


@dataclass(frozen=True, slots=True)
class SloStatus:
    """Where one monitor stands against its objective at one instant."""

    target: float  # percent, as configured: 99.9
    window: timedelta
    budget_seconds: float
    bad_seconds: float  # bad time within the window
    burn: Mapping[str, float]  # by label of BURN_WINDOWS

    @property
    def budget_left_seconds(self) -> float:
        """Negative once the budget is overspent."""
        return self.budget_seconds - self.bad_seconds

    @property
    def budget_left_percent(self) -> float:
        """100 untouched, 0 spent, below 0 overspent."""
        return self.budget_left_seconds / self.budget_seconds * 100

    def conditions(self) -> frozenset[str]:
        return alert_conditions(self.burn, self.budget_left_seconds)


def bad_intervals(
    incidents: Sequence[OpenInterval], excluded: Sequence[Interval], now: datetime
) -> list[Interval]:
    """Incident time outside `excluded` (maintenance, paused, archived), merged and sorted; open
    incidents run to `now`, and nothing after `now` counts."""
    outages = merge([(start, min(end or now, now)) for start, end in incidents])
    return outside(outages, merge(excluded))


def slo_status(slo: Slo, bad: Sequence[Interval], now: datetime) -> SloStatus:
    """Budget and burn rates at `now` from the monitor's bad intervals (see `bad_intervals`)."""
    return SloStatus(
        target=slo.target,
        window=slo.window,
        budget_seconds=budget_seconds(slo),
        bad_seconds=covered(bad, now - slo.window, now).total_seconds(),
        burn={
            label: burn_rate(bad, slo.bad_fraction, width, now)
            for label, width in BURN_WINDOWS.items()
        },
    )


def budget_seconds(slo: Slo) -> float:
    """(1 - target) x window, to the microsecond: 1 - 99.9 / 100 is 0.0010000000000000009 in
    floating point, and a budget a hair above 2592 s would never be seen to run out."""
    return round(slo.bad_fraction * slo.window.total_seconds(), 6)


def burn_rate(
    bad: Sequence[Interval], bad_fraction: float, width: timedelta, now: datetime
) -> float:
    """Bad time in `[now - width, now)` as a multiple of what the objective allows in `width`."""
    return covered(bad, now - width, now).total_seconds() / (bad_fraction * width.total_seconds())


def alert_conditions(burn: Mapping[str, float], budget_left_seconds: float) -> frozenset[str]:
    """The SLO alert kinds whose condition holds: `slo.burn_fast` when burn > 14.4 over both 1h
    and 5m, `slo.burn_slow` when burn > 6 over both 6h and 30m, `slo.exhausted` when no budget is
    left. `burn` is keyed by the labels of BURN_WINDOWS. Whoever alerts keeps its own memory of
    what it announced: this says only what is true now."""
    held = {
        kind for kind, rate, long, short in BURN_RULES if burn[long] > rate and burn[short] > rate
    }
    if budget_left_seconds <= 0:
        held.add(EXHAUSTED)
    return frozenset(held)
