"""Raw results written in batches, hourly and daily rollups, and each monitor's first result."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import (
    MakeHarness,
    at,
    commits_fail,
    config,
    degraded,
    down,
    http,
    monitor,
    results,
    rows,
    up,
)
from upwatch.probes.result import ProbeResult, ProbeState
from upwatch.store.rollups import rollup_of
from upwatch.store.tables import DAILY, HOURLY


async def test_results_are_written_in_batches_with_what_the_probe_measured(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(http("api")))
    harness.pipeline.batch_size = 2
    measured = ProbeResult(
        ProbeState.UP,
        at(),
        0.1234,
        status_code=200,
        phases={"dns": 0.002, "connect": 0.01, "tls": 0.03, "ttfb": 0.07, "transfer": 0.0114},
        cert_expires_at=at(hours=24 * 60),
    )
    failed = down(at(minutes=1), "connection refused (api.acme.test:443)", "connection refused")

    harness.submit("api", measured, failed, *(degraded(at(minutes=n)) for n in (2, 3, 4)))
    assert await harness.flush(at(minutes=5)) is True

    assert harness.pipeline.written == 5
    written = await results(engine, "api")
    assert [r.checked_at for r in written] == [at(minutes=n) for n in range(5)]
    first, second = written[0], written[1]
    assert (first.state, first.duration_ms, first.status_code) == ("up", 123.4, 200)
    assert first.phases == {
        "dns": 0.002,
        "connect": 0.01,
        "tls": 0.03,
        "ttfb": 0.07,
        "transfer": 0.0114,
    }
    assert first.cert_expires_at == at(hours=24 * 60)
    assert (second.state, second.cause, second.public_cause) == (
        "down",
        "connection refused (api.acme.test:443)",
        "connection refused",
    )


async def test_hourly_and_daily_rollups_count_checks_failures_and_degraded(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(http("api", failure_threshold=10)))
    first_hour = [
        ProbeResult(ProbeState.UP, at(minutes=10), 0.05),
        down(at(minutes=20)),
        degraded(at(minutes=30)),
        down(at(minutes=40)),
    ]
    second_hour = [ProbeResult(ProbeState.UP, at(minutes=70), 0.05), degraded(at(minutes=80))]

    await harness.feed("api", *first_hour, *second_hour)

    hourly = await rows(engine, HOURLY, order=HOURLY.c.bucket)
    assert [(r.bucket, r.checks, r.failures, r.degraded) for r in hourly] == [
        (at(), 4, 2, 1),
        (at(hours=1), 2, 0, 1),
    ]
    [daily] = await rows(engine, DAILY)
    assert (daily.bucket, daily.checks, daily.failures, daily.degraded) == (
        at(hours=-8),
        6,
        2,
        2,
    )
    assert daily.latency_sum_ms == pytest.approx(50 + 30 + 900 + 30 + 50 + 900)


def within_two_percent(found: float | None, exact: float) -> bool:
    return found is not None and abs(found - exact) <= 0.02 * exact


async def test_rollup_percentiles_are_the_nearest_rank_durations_within_two_percent(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(http("api")))
    latencies = [40.0] * 10 + [120.0] * 9 + [2000.0]  # nearest rank: p50 40, p95 120, p99 2000
    measured = [
        ProbeResult(ProbeState.UP, at(minutes=n), ms / 1000) for n, ms in enumerate(latencies)
    ]

    await harness.feed("api", *measured)

    [hourly] = await rows(engine, HOURLY)
    [daily] = await rows(engine, DAILY)
    for row in (hourly, daily):
        found = rollup_of(row).percentiles()
        for label, exact in (("p50", 40.0), ("p95", 120.0), ("p99", 2000.0)):
            assert within_two_percent(found[label], exact), (label, found)
        # The legacy histogram columns are no longer written.
        assert (row.latency_hist, row.p50_ms, row.p95_ms) == (None, None, None)


async def test_results_of_508_to_516_ms_show_percentiles_within_two_percent(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    """The monitor from the issue: a histogram bucket's upper edge showed 750 ms (+47 %)."""
    harness = await make_harness(config(http("api")))
    latencies = [508.0 + (n * 7) % 9 for n in range(60)]  # 508 ... 516 ms
    ordered = sorted(latencies)
    exact = {"p50": ordered[29], "p95": ordered[56], "p99": ordered[59]}  # ranks ⌈q·60⌉

    for start in range(0, 60, 20):  # three flushes: rows read back and merged in memory
        chunk = latencies[start : start + 20]
        await harness.feed(
            "api",
            *(
                ProbeResult(ProbeState.UP, at(minutes=start + i), ms / 1000)
                for i, ms in enumerate(chunk)
            ),
        )

    [hourly] = await rows(engine, HOURLY)
    [daily] = await rows(engine, DAILY)
    for row in (hourly, daily):
        assert row.checks == 60
        found = rollup_of(row).percentiles()
        for label, value in exact.items():
            assert within_two_percent(found[label], value), (label, found)


async def test_rollups_from_separate_flushes_merge_into_one_row_per_bucket(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(http("api", failure_threshold=10)))
    await harness.feed("api", *(ProbeResult(ProbeState.UP, at(minutes=n), 0.04) for n in range(5)))

    await harness.feed("api", *(down(at(minutes=n), ms=900.0) for n in range(5, 10)))

    [hourly] = await rows(engine, HOURLY)
    assert (hourly.checks, hourly.failures) == (10, 5)
    found = rollup_of(hourly).percentiles()
    assert within_two_percent(found["p50"], 40.0)
    assert within_two_percent(found["p95"], 900.0)
    [daily] = await rows(engine, DAILY)
    assert (daily.checks, daily.failures) == (10, 5)
    assert within_two_percent(rollup_of(daily).percentiles()["p50"], 40.0)


async def test_first_result_at_is_set_by_the_first_result_and_never_moves(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(http("api"), http("web")))

    await harness.feed("api", down(at(minutes=3)), down(at(minutes=4)))
    await harness.restart(at(minutes=5))
    await harness.feed("api", down(at(minutes=6)))

    assert (await monitor(engine, "api")).first_result_at == at(minutes=3)
    assert (await monitor(engine, "web")).first_result_at is None


async def test_results_older_than_a_day_still_roll_up_into_their_own_day(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(http("api")))
    yesterday = at() - timedelta(days=1)

    await harness.feed("api", degraded(yesterday), degraded(at()), now=at(seconds=1))

    daily = await rows(engine, DAILY, order=DAILY.c.bucket)
    assert [(r.bucket, r.checks) for r in daily] == [
        (at(hours=-32), 1),
        (at(hours=-8), 1),
    ]


async def test_a_flush_whose_commit_is_lost_counts_its_results_once_when_replayed(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    # Rollups are kept in memory between flushes: a lost commit must not leave them counted.
    harness = await make_harness(config(http("api")))
    await harness.feed("api", up(at(minutes=1)))

    with commits_fail(engine):
        harness.submit("api", up(at(minutes=2)), up(at(minutes=3)))
        assert await harness.flush(at(minutes=3)) is False
    assert await harness.flush(at(minutes=4)) is True
    await harness.feed("api", up(at(minutes=5)))

    [hourly] = await rows(engine, HOURLY)
    [daily] = await rows(engine, DAILY)
    assert (hourly.checks, daily.checks) == (4, 4)
    assert (rollup_of(hourly).sketch.count, rollup_of(daily).sketch.count) == (4, 4)


async def test_rollups_written_by_another_process_while_it_held_the_monitor_are_kept(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    # The shard moves away and back: this process must read what the other one wrote.
    here = await make_harness(config(http("api")))
    await here.feed("api", up(at(minutes=1)))
    here.evaluator.release(["api"])

    there = await make_harness(config(http("api")), start=at(minutes=2))
    await there.feed("api", up(at(minutes=2)), up(at(minutes=3)))
    there.evaluator.release(["api"])

    await here.start(at(minutes=4))
    await here.feed("api", up(at(minutes=4)))

    [hourly] = await rows(engine, HOURLY)
    assert hourly.checks == 4


async def test_results_reaching_a_new_hour_start_a_new_row_and_late_ones_still_count(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(http("api")))
    for hour in range(3):
        await harness.feed("api", up(at(hours=hour, minutes=30)))
    await harness.feed("api", up(at(minutes=59)), now=at(hours=2, minutes=31))  # held up

    hourly = await rows(engine, HOURLY, order=HOURLY.c.bucket)
    assert [(r.bucket, r.checks) for r in hourly] == [(at(), 2), (at(hours=1), 1), (at(hours=2), 1)]
