"""The last 24 hours' latency per monitor, read through a per-process cache of the completed
hours: never stale when a past hour changes, whichever process wrote it, and the same as an
uncached read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import Harness, MakeHarness, at, config, http, up
from upwatch.store.latency_window import LatencyWindow

Figures = dict[str, tuple[int, dict[str, float | None]]]  # monitor: (checks, p50/p95/p99)


def within_two_percent(found: float | None, exact: float) -> bool:
    return found is not None and abs(found - exact) <= 0.02 * exact


async def read(engine: AsyncEngine, window: LatencyWindow, now: datetime) -> Figures:
    async with engine.connect() as connection:
        merged = await window.read(connection, now)
    return {m: (r.checks, r.percentiles()) for m, r in merged.items()}


async def three_hours(make_harness: MakeHarness) -> Harness:
    """Two monitors, 40 ms results in hours 0, 1 and 2 (the current one at 2:30)."""
    harness = await make_harness(config(http("api"), http("web")))
    for hour in range(3):
        for monitor_id in ("api", "web"):
            results = [up(at(hours=hour, minutes=m), ms=40.0) for m in range(0, 30, 10)]
            await harness.feed(monitor_id, *results)
    return harness


async def test_a_late_result_landing_in_a_past_hour_changes_the_next_read(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await three_hours(make_harness)
    window = LatencyWindow()
    before = await read(engine, window, at(hours=2, minutes=30))
    assert before["api"][0] == 9
    assert await read(engine, window, at(hours=2, minutes=31)) == before  # served from the cache

    late = [up(at(minutes=50), ms=3000.0) for _ in range(2)]  # hour 0, long completed
    await harness.feed("api", *late, now=at(hours=2, minutes=32))

    after = await read(engine, window, at(hours=2, minutes=33))
    checks, found = after["api"]
    assert checks == 11
    assert within_two_percent(found["p99"], 3000.0), found
    assert after["web"] == before["web"]
    assert after == await read(engine, LatencyWindow(), at(hours=2, minutes=33))  # uncached


async def test_two_processes_with_their_own_caches_both_see_a_past_hour_one_of_them_changed(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await three_hours(make_harness)
    web, scraper = LatencyWindow(), LatencyWindow()  # two processes, one database
    now = at(hours=2, minutes=30)
    assert await read(engine, web, now) == await read(engine, scraper, now)

    # A worker (a third process, here the harness) writes a late result into hour 1, and a
    # result into the current hour: neither reader wrote anything.
    await harness.feed("web", up(at(hours=1, minutes=55), ms=900.0), now=at(hours=2, minutes=31))
    await harness.feed("web", up(at(hours=2, minutes=31), ms=40.0))

    later = at(hours=2, minutes=32)
    first, second = await read(engine, web, later), await read(engine, scraper, later)
    assert first == second == await read(engine, LatencyWindow(), later)
    assert first["web"][0] == 11


async def test_when_the_hour_turns_the_oldest_hour_leaves_the_window(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await three_hours(make_harness)
    await harness.feed("api", up(at(minutes=40), ms=3000.0), now=at(hours=2, minutes=40))
    window = LatencyWindow()
    assert (await read(engine, window, at(hours=2, minutes=45)))["api"][0] == 10

    # 24 hours after 0:40 the hour-0 row (with its 3,000 ms result) is out of the window.
    turned = await read(engine, window, at(hours=24, minutes=45))
    checks, found = turned["api"]
    assert checks == 6
    assert within_two_percent(found["p99"], 40.0), found
