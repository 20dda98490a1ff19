"""Uptime from intervals, worked out by hand: incident time outside exclusions / measured time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from upwatch.engine.uptime import DayUptime, Interval, OpenInterval, daily_uptime, merge, uptime

DAY_START = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
DAY_END = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def t(text: str) -> datetime:
    full = text if len(text) > 8 else f"2026-11-22 {text}"
    return datetime.fromisoformat(full).replace(tzinfo=UTC)


def span(start: str, end: str) -> Interval:
    return (t(start), t(end))


@pytest.mark.parametrize(
    ("incidents", "excluded", "first_result", "expected"),
    [
        pytest.param([], [], LONG_AGO, 100.0, id="no-incidents"),
        # 1 - 1800/86400 = 97.9166... (rounding would say 97.92)
        pytest.param([span("10:00", "10:30")], [], LONG_AGO, 97.91, id="half-an-hour-down"),
        # 900 s outside the window; 86400 - 2700 measured: 1 - 900/83700 = 98.9247...
        pytest.param(
            [span("10:00", "10:30")],
            [span("10:15", "11:00")],
            LONG_AGO,
            98.92,
            id="incident-overlapping-maintenance",
        ),
        # measured from 12:00: 1 - 2160/43200 = 95
        pytest.param(
            [span("13:00", "13:36")], [], t("12:00"), 95.0, id="time-before-the-first-result"
        ),
        # overlapping incidents count once: 2400 s; 1 - 2400/86400 = 97.222...
        pytest.param(
            [span("10:00", "10:30"), span("10:20", "10:40")],
            [],
            LONG_AGO,
            97.22,
            id="overlapping-incidents",
        ),
        # paused 00:00-06:00 and maintenance 05:00-07:00 exclude 7 h: 1 - 3060/61200 = 95
        pytest.param(
            [span("12:00", "12:51")],
            [span("00:00", "06:00"), span("05:00", "07:00")],
            LONG_AGO,
            95.0,
            id="overlapping-exclusions-merged",
        ),
        pytest.param(
            [span("03:10", "03:20")],
            [span("03:00", "03:30")],
            LONG_AGO,
            100.0,
            id="incident-inside-maintenance",
        ),
        # from 2026-11-21 18:00 to 2026-11-22 06:00: 6 h of it inside the window, 1 - 6/24 = 75
        pytest.param(
            [span("2026-11-21 18:00", "06:00")], [], LONG_AGO, 75.0, id="incident-before-window"
        ),
    ],
)
def test_uptime_is_incident_time_outside_exclusions_over_measured_time(
    incidents: list[OpenInterval],
    excluded: list[Interval],
    first_result: datetime,
    expected: float,
) -> None:
    assert uptime(DAY_START, DAY_END, incidents, excluded, first_result) == expected


def test_an_open_incident_counts_until_the_end_of_the_window() -> None:
    # now 12:00, down since 06:00: 21600 of 43200 s
    assert uptime(DAY_START, t("12:00"), [(t("06:00"), None)], [], LONG_AGO) == 50.0


@pytest.mark.parametrize(
    ("down", "window", "expected"),
    [
        (timedelta(seconds=1), timedelta(seconds=100_000), 99.99),  # 99.999
        (timedelta(microseconds=1), timedelta(days=1), 99.99),  # 99.9999999...
        (timedelta(seconds=864), timedelta(days=1), 99.0),  # exactly 99
        (timedelta(seconds=8639), timedelta(days=1), 90.0),  # 90.0011...
        (timedelta(seconds=86399), timedelta(days=1), 0.0),  # 0.0011...
        (timedelta(days=1), timedelta(days=1), 0.0),
    ],
)
def test_uptime_is_truncated_to_two_decimals_never_rounded(
    down: timedelta, window: timedelta, expected: float
) -> None:
    incidents: list[OpenInterval] = [(DAY_START, DAY_START + down)]

    assert uptime(DAY_START, DAY_START + window, incidents, [], LONG_AGO) == expected


@pytest.mark.parametrize(
    ("excluded", "first_result"),
    [
        pytest.param([], None, id="no-result-ever"),
        pytest.param([(DAY_START, DAY_END)], LONG_AGO, id="all-maintenance"),
        pytest.param(
            [span("12:00", "2026-11-23 00:00")], t("18:00"), id="results-only-in-maintenance"
        ),
        pytest.param([], DAY_END, id="first-result-at-the-end"),
        pytest.param([], t("2026-11-24 00:00"), id="first-result-after-the-window"),
    ],
)
def test_uptime_is_none_when_nothing_is_left_to_measure(
    excluded: list[Interval], first_result: datetime | None
) -> None:
    assert uptime(DAY_START, DAY_END, [], excluded, first_result) is None


def test_merging_joins_overlapping_and_touching_intervals_and_drops_empty_ones() -> None:
    intervals = [span("12:00", "13:00"), span("10:00", "11:00"), span("11:00", "11:30")]

    assert merge([*intervals, span("14:00", "14:00")]) == [
        span("10:00", "11:30"),
        span("12:00", "13:00"),
    ]


def test_daily_bars_follow_calendar_days_in_the_page_time_zone_across_a_dst_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    now = t("2026-03-30 12:00")  # clocks went forward on Sunday 2026-03-29
    # 22:00-00:00 UTC: 23:00-24:00 on the 28th (CET) and 00:00-01:00 on the 29th in Berlin
    incidents: list[OpenInterval] = [(t("2026-03-28 22:00"), t("2026-03-29 00:00"))]

    bars = daily_uptime(now, berlin, incidents, [], LONG_AGO, days=3)

    assert bars == [
        DayUptime(date(2026, 3, 28), 95.83, 3600),  # 1 - 3600/86400 = 95.833...
        DayUptime(date(2026, 3, 29), 95.65, 3600),  # a 23-hour day: 1 - 3600/82800 = 95.652...
        DayUptime(date(2026, 3, 30), 100.0, 0),  # today, up to now
    ]


def test_daily_bars_before_the_first_result_have_no_value() -> None:
    bars = daily_uptime(t("12:00"), UTC, [], [], t("2026-11-21 18:00"), days=3)

    assert [(bar.day.day, bar.uptime) for bar in bars] == [(20, None), (21, 100.0), (22, 100.0)]


def test_there_are_ninety_daily_bars_by_default_oldest_first() -> None:
    bars = daily_uptime(t("12:00"), UTC, [], [], LONG_AGO)

    assert len(bars) == 90
    assert (bars[0].day, bars[-1].day) == (date(2026, 8, 25), date(2026, 11, 22))
