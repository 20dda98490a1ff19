"""SLO budget, burn rates and alert conditions from hand-built intervals and a simulated `now`."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from upwatch.config.models import Slo
from upwatch.engine.slo import (
    BURN_FAST,
    BURN_SLOW,
    BURN_WINDOWS,
    EXHAUSTED,
    alert_conditions,
    bad_intervals,
    slo_status,
)
from upwatch.engine.uptime import Interval, OpenInterval, merge, outside

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SLO = Slo(target=99.9, window=timedelta(days=30))  # budget 2592 s = 43.2 minutes


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


def steady_burn(rate: float, every: timedelta, until: timedelta) -> list[OpenInterval]:
    """Down for `rate` times the allowed share at the start of every `every` from T0."""
    down = every * (rate * SLO.bad_fraction)
    count = int(until / every)
    return [(T0 + every * k, T0 + every * k + down) for k in range(count)]


def conditions_over(
    incidents: list[OpenInterval], until: timedelta, tick: timedelta
) -> Iterator[tuple[timedelta, frozenset[str]]]:
    """The conditions at every tick of simulated time from T0."""
    elapsed = tick
    while elapsed <= until:
        now = T0 + elapsed
        yield elapsed, slo_status(SLO, bad_intervals(incidents, [], now), now).conditions()
        elapsed += tick


def first_time(kind: str, found: Iterator[tuple[timedelta, frozenset[str]]]) -> timedelta | None:
    return next((elapsed for elapsed, held in found if kind in held), None)


def test_a_steady_burn_of_20_pages_fast_after_about_43_minutes_not_before_40() -> None:
    incidents = steady_burn(20, minutes(1), timedelta(hours=3))

    fast = first_time(BURN_FAST, conditions_over(incidents, timedelta(hours=3), minutes(0.5)))

    # burn(1h) counts a full hour from its start: 14.4 / 20 x 60 min = 43.2 min of burning
    assert fast is not None
    assert minutes(43) <= fast <= minutes(44)


def test_a_steady_burn_of_20_reaches_the_slow_condition_after_about_108_minutes() -> None:
    incidents = steady_burn(20, minutes(1), timedelta(hours=3))

    slow = first_time(BURN_SLOW, conditions_over(incidents, timedelta(hours=3), minutes(0.5)))

    assert slow is not None  # 6 / 20 x 6 h = 108 minutes
    assert minutes(107) <= slow <= minutes(109)


def test_a_steady_burn_of_2_meets_no_condition_in_three_days() -> None:
    three_days = timedelta(days=3)
    incidents = steady_burn(2, minutes(10), three_days)

    held = {
        kind for _, found in conditions_over(incidents, three_days, minutes(13)) for kind in found
    }

    assert held == set()
    status = slo_status(SLO, bad_intervals(incidents, [], T0 + three_days), T0 + three_days)
    assert status.burn["3d"] == pytest.approx(2)
    assert status.budget_left_percent == pytest.approx(80)  # 3 of 30 days at twice the rate


def test_the_budget_is_the_allowed_share_of_the_window() -> None:
    status = slo_status(SLO, [], T0)

    assert status.budget_seconds == 2592.0
    assert status.budget_left_seconds == 2592.0
    assert status.budget_left_percent == 100.0
    assert set(status.burn) == set(BURN_WINDOWS)
    assert all(rate == 0 for rate in status.burn.values())


@pytest.mark.parametrize(
    ("down", "left_seconds", "exhausted"),
    [
        pytest.param(minutes(43.2) - timedelta(seconds=1), 1.0, False, id="one-second-left"),
        pytest.param(minutes(43.2), 0.0, True, id="exactly-spent"),
        pytest.param(minutes(86.4), -2592.0, True, id="overspent-twice"),
    ],
)
def test_the_budget_runs_out_when_bad_time_reaches_it(
    down: timedelta, left_seconds: float, exhausted: bool
) -> None:
    now = T0 + timedelta(days=10)
    bad = bad_intervals([(T0, T0 + down)], [], now)

    status = slo_status(SLO, bad, now)

    assert status.budget_left_seconds == pytest.approx(left_seconds)
    assert status.budget_left_percent == pytest.approx(left_seconds / 2592 * 100)
    assert (EXHAUSTED in status.conditions()) is exhausted


def test_an_outage_older_than_the_window_no_longer_counts() -> None:
    incidents: list[OpenInterval] = [(T0, T0 + timedelta(hours=2))]

    inside = T0 + timedelta(days=30)
    after = T0 + timedelta(days=30, hours=2)

    assert slo_status(SLO, bad_intervals(incidents, [], inside), inside).bad_seconds == 7200
    assert slo_status(SLO, bad_intervals(incidents, [], after), after).bad_seconds == 0


def test_maintenance_and_paused_time_are_not_bad() -> None:
    incidents: list[OpenInterval] = [(T0, T0 + minutes(60))]
    maintenance: Interval = (T0 + minutes(30), T0 + minutes(90))
    paused: Interval = (T0 + minutes(10), T0 + minutes(15))
    now = T0 + timedelta(hours=2)

    bad = bad_intervals(incidents, [maintenance, paused], now)

    assert bad == [(T0, T0 + minutes(10)), (T0 + minutes(15), T0 + minutes(30))]
    assert slo_status(SLO, bad, now).bad_seconds == 25 * 60


def test_degraded_time_is_good_because_only_incidents_are_bad() -> None:
    # A monitor degraded for a week opens no incident: nothing of its budget is spent.
    now = T0 + timedelta(days=7)

    status = slo_status(SLO, bad_intervals([], [], now), now)

    assert status.budget_left_percent == 100.0
    assert status.conditions() == frozenset()


def test_an_open_incident_counts_until_now_and_burn_windows_are_not_clipped_to_age() -> None:
    now = T0 + minutes(10)  # down since the first probe, ten minutes ago

    status = slo_status(SLO, bad_intervals([(T0, None)], [], now), now)

    assert status.bad_seconds == 600
    assert status.burn["5m"] == pytest.approx(1000)
    assert status.burn["1h"] == pytest.approx(600 / 3.6)  # not 1000: the hour is not shortened
    assert status.conditions() == {BURN_FAST, BURN_SLOW}


def test_overlapping_incidents_count_once() -> None:
    now = T0 + timedelta(hours=1)
    incidents: list[OpenInterval] = [(T0, T0 + minutes(20)), (T0 + minutes(10), T0 + minutes(30))]

    assert slo_status(SLO, bad_intervals(incidents, [], now), now).bad_seconds == 30 * 60


def _burn(**rates: float) -> dict[str, float]:
    return {label: rates.get(f"w{label}", 0.0) for label in BURN_WINDOWS}


@pytest.mark.parametrize(
    ("burn", "left", "expected"),
    [
        pytest.param(_burn(), 100.0, set(), id="quiet"),
        pytest.param(_burn(w1h=14.5, w5m=14.5), 1.0, {BURN_FAST}, id="fast"),
        pytest.param(_burn(w1h=14.4, w5m=30), 1.0, set(), id="fast-needs-more-than-14.4"),
        pytest.param(_burn(w1h=20, w5m=0), 1.0, set(), id="fast-but-stopped"),
        pytest.param(_burn(w6h=6.1, w30m=7), 1.0, {BURN_SLOW}, id="slow"),
        pytest.param(_burn(w6h=5.9, w30m=7), 1.0, set(), id="slow-too-little"),
        pytest.param(_burn(w6h=6.1, w30m=6.0), 1.0, set(), id="slow-but-easing"),
        pytest.param(_burn(w1h=15, w5m=15, w6h=7, w30m=7), 1.0, {BURN_FAST, BURN_SLOW}, id="both"),
        pytest.param(_burn(), 0.0, {EXHAUSTED}, id="exhausted-at-zero"),
        pytest.param(_burn(), -5.0, {EXHAUSTED}, id="overspent"),
    ],
)
def test_alert_conditions(burn: dict[str, float], left: float, expected: set[str]) -> None:
    assert alert_conditions(burn, left) == expected


def _random_spans(rng: random.Random, count: int) -> list[Interval]:
    starts = [rng.randrange(0, 200) for _ in range(count)]
    return [(T0 + minutes(s), T0 + minutes(s + rng.randrange(0, 30))) for s in starts]


@pytest.mark.parametrize("seed", range(20))
def test_outside_keeps_exactly_the_minutes_no_exclusion_covers(seed: int) -> None:
    rng = random.Random(seed)
    intervals, excluded = _random_spans(rng, 6), _random_spans(rng, 4)

    kept = outside(merge(intervals), merge(excluded))

    def minutes_of(spans: list[Interval]) -> set[int]:
        return {m for s, e in spans for m in range((s - T0) // minutes(1), (e - T0) // minutes(1))}

    assert minutes_of(kept) == minutes_of(intervals) - minutes_of(excluded)
    assert kept == merge(kept)  # sorted, disjoint, none empty
