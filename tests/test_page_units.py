"""The status page's pure parts: words for numbers, bars, the chart's layout, the page cache."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from upwatch.engine.model import ShownState
from upwatch.engine.uptime import DayUptime, daily_uptime
from upwatch.web.bar_days import day_uptimes
from upwatch.web.bars import bar_label, bars_html, level
from upwatch.web.board import MonitorView
from upwatch.web.board_build import COLLAPSE_ABOVE, group_summary, groups
from upwatch.web.board_notes import banner
from upwatch.web.charts import nice_top, response_chart
from upwatch.web.page_cache import PageCache
from upwatch.web.pages_format import Clockface, duration, milliseconds, percent
from upwatch.web.views import overall_status

NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0, "0s"), (42, "42s"), (415, "6m 55s"), (3600, "1h"), (3725, "1h 2m"), (90061, "1d 1h")],
)
def test_durations_read_as_the_two_largest_units(seconds: int, words: str) -> None:
    assert duration(seconds) == words


@pytest.mark.parametrize(
    ("value", "words"), [(None, "—"), (100.0, "100%"), (99.5, "99.50%"), (99.519, "99.52%")]
)
def test_percentages_keep_two_decimals_except_a_clean_hundred(
    value: float | None, words: str
) -> None:
    assert percent(value) == words


def test_milliseconds_switch_to_seconds_above_one_second() -> None:
    assert [milliseconds(v) for v in (None, 83.0, 1000.0, 1500.0)] == ["—", "83 ms", "1 s", "1.5 s"]


@pytest.mark.parametrize(
    ("uptime", "css"),
    [
        (None, "none"),
        (100.0, "up"),
        (99.99, "minor"),
        (99.0, "minor"),
        (95.0, "major"),
        (94.99, "down"),
    ],
)
def test_bar_colours_follow_the_uptime_scale(uptime: float | None, css: str) -> None:
    assert level(uptime) == css


def test_bar_labels_say_the_day_the_uptime_and_the_downtime_in_words() -> None:
    first = date(2026, 11, 1)
    assert bar_label(DayUptime(date(2026, 11, 20), 99.51, 415), first) == (
        "2026-11-20: 99.51% up, 6m 55s down"
    )
    assert (
        bar_label(DayUptime(date(2026, 11, 2), 100.0, 0), first)
        == "2026-11-02: 100% up, no downtime"
    )
    assert bar_label(DayUptime(date(2026, 10, 2), None, 0), first) == "2026-10-02: no data"
    assert "not measured" in bar_label(DayUptime(date(2026, 11, 5), None, 0), first)


def test_days_that_read_the_same_are_one_focusable_run_with_its_words() -> None:
    days = tuple(DayUptime(date(2026, 11, d), 100.0, 0) for d in range(1, 22))
    html = bars_html(days, DayUptime(date(2026, 11, 22), 42.0, 3600), None)
    assert isinstance(html, Markup)
    assert html.count('tabindex="0"') == 2
    assert (
        '<span class="run up" role="listitem" tabindex="0" style="--n:21">'
        '<span class="tip">2026-11-01 to 2026-11-21: 100% up, no downtime</span></span>'
    ) in html
    assert 'style="--n:1"><span class="tip">2026-11-22: 42.00% up, 1h down</span>' in html


def test_today_joins_the_run_before_it_when_it_reads_the_same() -> None:
    days = tuple(DayUptime(date(2026, 11, d), 100.0, 0) for d in range(1, 22))
    html = bars_html(days, DayUptime(date(2026, 11, 22), 100.0, 0), None)
    assert html.count('class="run ') == 1
    assert "2026-11-01 to 2026-11-22: 100% up, no downtime" in html


_instants = st.integers(0, 100 * 24 * 60).map(lambda m: NOW - timedelta(minutes=m))
_spans = st.tuples(_instants, st.integers(1, 5000)).map(
    lambda s: (s[0], s[0] + timedelta(minutes=s[1]))
)


@settings(max_examples=60, deadline=None)
@given(
    incidents=st.lists(st.tuples(_instants, st.one_of(st.none(), _instants)), max_size=5),
    excluded=st.lists(_spans, max_size=5),
    first=st.one_of(st.none(), _instants),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kolkata"]),
)
def test_cached_day_bars_equal_daily_uptime(
    incidents: list[tuple[datetime, datetime | None]],
    excluded: list[tuple[datetime, datetime]],
    first: datetime | None,
    zone: str,
) -> None:
    incidents = [(s, e) for s, e in incidents if e is None or e > s]
    tz = ZoneInfo(zone)
    found = day_uptimes(first, incidents, excluded, NOW, tz)
    assert found.all == tuple(daily_uptime(NOW, tz, incidents, excluded, first, days=90))


@pytest.mark.parametrize(
    ("peak", "top"), [(0.5, 0.8), (1.0, 1.0), (83.0, 100.0), (340.0, 400.0), (1200.0, 2000.0)]
)
def test_the_chart_scale_ends_on_a_round_number(peak: float, top: float) -> None:
    assert nice_top(peak) == pytest.approx(top)


def _hour(bucket: datetime) -> SimpleNamespace:
    """An hourly rollup row from before latency sketches: the chart shows its stored p50/p95."""
    return SimpleNamespace(
        bucket=bucket,
        p50_ms=50.0,
        p95_ms=90.0,
        latency_sketch=None,
        checks=60,
        failures=0,
        degraded=0,
        latency_sum_ms=3000.0,
        latency_hist=None,
    )


def test_chart_lines_break_at_hours_without_data_and_a_lone_hour_is_a_dot() -> None:
    hour = NOW.replace(minute=0)
    rows = [_hour(hour - timedelta(hours=h)) for h in (0, 1, 5)]
    chart = response_chart(rows, NOW, "48h", Clockface(UTC))
    assert chart.p50_path.count("M") == 2  # hours 5 and 1-0 ago: two runs
    assert "h0.1" in chart.p50_path
    assert [p.hour for p in chart.points] == [hour - timedelta(hours=h) for h in (5, 1, 0)]
    assert chart.y_ticks[-1].label == "100 ms"


def _monitor(monitor_id: str, state: ShownState, group: str = "G") -> MonitorView:
    return MonitorView(
        id=monitor_id,
        name=monitor_id.title(),
        group=group,
        type="http",
        description=None,
        target=None,
        state=state,
        since=None,
        cause=None,
        last_checked_at=None,
        uptime={},
        bars=Markup(""),
        bad_days=0,
        bad_days_30=0,
        measured_days=0,
    )


def test_the_banner_counts_a_major_outage_and_names_the_first_few() -> None:
    monitors = [_monitor(f"m{i}", ShownState.DOWN) for i in range(5)] + [
        _monitor("ok", ShownState.UP)
    ]
    found = banner("major_outage", monitors)
    assert found.headline == "Major outage"
    assert found.detail == "5 of 6 services are down: M0, M1, M2 and 2 more."


@pytest.mark.parametrize(
    ("states", "overall", "headline", "detail"),
    [
        (
            [ShownState.UNKNOWN] * 6,
            "unknown",
            "No data yet",
            "None of the 6 services has reported a check yet.",
        ),
        (
            [ShownState.UP] + [ShownState.UNKNOWN] * 5,
            "operational",
            "All systems operational",
            "1 of 6 services are working normally. 5 of 6 have no data yet.",
        ),
        (
            [ShownState.DOWN, ShownState.UP, ShownState.UNKNOWN],
            "partial_outage",
            "Partial outage",
            "Down: M0. 1 of 3 has no data yet.",
        ),
        (
            [ShownState.DOWN, ShownState.UP],
            "partial_outage",
            "Partial outage",
            "Down: M0. Everything else is working.",
        ),
        (
            [ShownState.UP] * 2,
            "operational",
            "All systems operational",
            "All 2 services are working normally.",
        ),
    ],
)
def test_the_banner_never_counts_monitors_without_data_as_working(
    states: list[ShownState], overall: str, headline: str, detail: str
) -> None:
    monitors = [_monitor(f"m{i}", state) for i, state in enumerate(states)]
    assert overall_status(states) == overall
    found = banner(overall, monitors)
    assert (found.state, found.headline, found.detail) == (overall, headline, detail)


def test_today_is_red_while_the_monitor_is_down_however_short_the_outage() -> None:
    today = DayUptime(date(2026, 11, 22), 99.9, 60)
    assert 'class="run minor"' in bars_html((), today, None)
    assert 'class="run down"' in bars_html((), today, None, down_now=True)
    empty = DayUptime(date(2026, 11, 22), None, 0)
    assert 'class="run none"' in bars_html((), empty, None, down_now=True)


def test_large_pages_collapse_groups_where_nothing_needs_attention() -> None:
    quiet = [_monitor(f"q{i}", ShownState.UP, "Quiet") for i in range(COLLAPSE_ABOVE)]
    loud = [_monitor("x", ShownState.DOWN, "Loud"), _monitor("y", ShownState.UP, "Loud")]
    found = {g.name: g for g in groups(quiet + loud)}
    assert (found["Quiet"].open, found["Loud"].open) == (False, True)
    assert found["Loud"].summary == "1 of 2 down"
    assert all(g.open for g in groups(loud))
    assert group_summary([_monitor("p", ShownState.PAUSED)], ShownState.PAUSED) == "Paused"


class _Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_the_cache_serves_fresh_values_and_rebuilds_stale_ones_in_the_background() -> None:
    ticks, builds = _Ticks(), []

    async def build() -> int:
        builds.append(ticks.now)
        return len(builds)

    cache = PageCache(fresh_for=5, stale_for=60, clock=ticks)
    assert await cache.get("k", build) == 1
    ticks.now = 4
    assert await cache.get("k", build) == 1
    ticks.now = 10
    assert await cache.get("k", build) == 1  # stale: served while a rebuild runs
    await asyncio.sleep(0)
    assert await cache.get("k", build) == 2
    ticks.now = 100
    assert await cache.get("k", build) == 3  # too old to serve: waits for the rebuild


async def test_a_state_change_rebuilds_a_cached_page_at_most_once_a_second() -> None:
    ticks, built = _Ticks(), 0

    async def build() -> int:
        nonlocal built
        built += 1
        return built

    cache = PageCache(fresh_for=5, changed_after=1, stale_for=60, clock=ticks)
    assert await cache.get("k", build, version=1) == 1
    ticks.now = 0.5
    assert await cache.get("k", build, version=2) == 1  # changed, but built half a second ago
    await asyncio.sleep(0)
    assert built == 1
    ticks.now = 1.0
    assert await cache.get("k", build, version=2) == 1  # served while the rebuild runs
    await asyncio.sleep(0)
    assert await cache.get("k", build, version=2) == 2
    ticks.now = 3.0
    assert await cache.get("k", build, version=2) == 2  # nothing new: kept until it ages


async def test_concurrent_requests_share_one_build_and_a_failed_rebuild_keeps_the_old_page() -> (
    None
):
    ticks, gate = _Ticks(), asyncio.Event()
    calls = 0

    async def slow() -> str:
        nonlocal calls
        calls += 1
        await gate.wait()
        return "page"

    cache = PageCache(fresh_for=1, stale_for=2, clock=ticks)
    waiting = [asyncio.create_task(cache.get("k", slow)) for _ in range(3)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiting) == ["page"] * 3
    assert calls == 1

    async def broken() -> str:
        raise OSError("database away")

    ticks.now = 50
    assert await cache.get("k", broken) == "page"
    with pytest.raises(OSError, match="database away"):
        await cache.get("other", broken)


async def test_the_cache_grows_to_hold_every_page_it_is_asked_to_fit() -> None:
    ticks, built = _Ticks(), []

    async def build() -> int:
        built.append(1)
        return len(built)

    cache = PageCache(max_entries=2, clock=ticks)
    cache.fit(3)  # three monitor pages of the running config
    for key in ("a", "b", "c"):
        await cache.get(key, build)
    for key in ("a", "b", "c"):
        await cache.get(key, build)

    assert len(built) == 3, "none of the three was turned out to make room"
    cache.fit(1)
    assert cache.max_entries == 3  # never shrinks below what it holds
