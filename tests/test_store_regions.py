"""Regions through the real pipeline and evaluator, on both databases: each region's results
stored with their region, rounds voted K of N, one incident however many regions see it, and
the vote surviving a restart and a lost commit."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import (
    Clock,
    Harness,
    MakeHarness,
    at,
    commits_fail,
    config,
    down,
    http,
    incidents,
    outbox,
    up,
)
from upwatch.runtime.pipeline import Observation
from upwatch.runtime.region_watch import RegionWatch
from upwatch.store import leases
from upwatch.store.latency_window import LatencyWindow
from upwatch.store.tables import OUTBOX, REGION_VOTES, RESULTS
from upwatch.web.metrics import MonitorCollector, exposition
from upwatch.web.metrics_source import fetch_metrics_source

API = http(
    "api",
    escalation="critical",
    regions=["us", "eu", "ap"],
    confirm=2,
    interval="30s",
    retry_interval="20s",
    failure_threshold=2,
)


async def round_at(harness: Harness, seconds: float, *failing: str) -> None:
    """Every region probes at `seconds` (a few hundred ms apart); `failing` ones see a 503.
    Flushed once all three reported, as the daemon's one-second flush would."""
    for offset, region in enumerate(("us", "eu", "ap")):
        checked_at = at(seconds=seconds + offset * 0.2)
        result = down(checked_at) if region in failing else up(checked_at)
        harness.pipeline.submit(Observation("api", result, region=region))
    assert await harness.flush(at(seconds=seconds + 1))


async def stored(engine: AsyncEngine) -> list[tuple[str | None, str]]:
    async with engine.connect() as connection:
        query = select(RESULTS.c.region, RESULTS.c.state).order_by(RESULTS.c.id)
        return [(r, s) for r, s in await connection.execute(query)]


async def opened(engine: AsyncEngine) -> int:
    return len(await outbox(engine, OUTBOX.c.event == "incident.opened"))


async def test_one_region_failing_is_stored_per_region_and_opens_nothing(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(API))
    for seconds in (0, 30, 60, 90):
        await round_at(harness, seconds, "eu")

    assert await incidents(engine, "api") == []
    rows = await stored(engine)
    # Each round: the three regions' results, then the round the evaluator voted on (no region).
    assert rows[:4] == [("us", "up"), ("eu", "down"), ("ap", "up"), (None, "up")]
    assert len(rows) == 16
    async with engine.connect() as connection:
        votes = {r.region: r.state for r in await connection.execute(select(REGION_VOTES))}
    assert votes == {"us": "up", "eu": "down", "ap": "up"}


async def test_two_of_three_open_one_incident_naming_them_and_recover_once(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(API))
    await round_at(harness, 0)
    await round_at(harness, 30, "eu", "ap")
    assert await incidents(engine, "api") == []  # one voted failure of the two needed
    await round_at(harness, 50, "eu", "ap")

    (incident,) = await incidents(engine, "api")
    assert incident.cause == "down from eu and ap: expected status 200, got 503"
    assert incident.started_at == at(seconds=30)
    assert await opened(engine) == 1
    await round_at(harness, 70, "eu", "ap")
    await round_at(harness, 90)
    (incident,) = await incidents(engine, "api")
    assert incident.resolved_at == at(seconds=90)
    assert await opened(engine) == 1


async def test_a_region_that_is_not_live_votes_unknown(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(API))
    harness.evaluator.live_regions = frozenset({"us", "eu"})  # ap has no live instance
    for seconds in (0, 30, 60):
        await round_at(harness, seconds, "eu", "ap")
    assert await incidents(engine, "api") == []  # ap's downs do not count: eu alone is 1 of 2


async def test_a_restart_mid_failure_goes_on_with_the_same_vote_and_incident(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(API))
    await round_at(harness, 0, "us", "eu")
    await harness.restart(at(seconds=10))
    await round_at(harness, 20, "us", "eu")
    (incident,) = await incidents(engine, "api")
    assert incident.started_at == at(seconds=0)
    await harness.restart(at(seconds=30))
    await round_at(harness, 40, "us", "eu")
    assert [i.id for i in await incidents(engine, "api")] == [incident.id]
    assert await opened(engine) == 1


async def test_a_round_whose_commit_was_lost_is_voted_again_once(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(API))
    await round_at(harness, 0, "eu", "ap")
    for offset, region in enumerate(("us", "eu", "ap")):
        result = down(at(seconds=20 + offset * 0.2))
        harness.pipeline.submit(Observation("api", result, region=region))
    with commits_fail(engine):
        assert not await harness.flush(at(seconds=21))
    assert await incidents(engine, "api") == []
    assert await harness.flush(at(seconds=22))
    (incident,) = await incidents(engine, "api")
    assert incident.confirmed_at == at(seconds=20)
    assert await opened(engine) == 1


async def test_a_silent_region_holds_a_round_back_only_until_its_wait_is_over(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(API))
    for seconds in (0, 20):
        for region in ("us", "eu"):  # ap says nothing at all
            harness.pipeline.submit(Observation("api", down(at(seconds=seconds)), region=region))
        assert await harness.flush(at(seconds=seconds + 1))
        assert await harness.flush(at(seconds=seconds) + timedelta(seconds=12))
    (incident,) = await incidents(engine, "api")
    assert incident.cause.startswith("down from us and eu: ")


async def test_metrics_give_each_region_s_latest_probe_of_the_monitor(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(API))
    await round_at(harness, 0, "eu")
    now = at(seconds=2)
    source = await fetch_metrics_source(engine, now, harness.loaded.config, LatencyWindow())
    collector = MonitorCollector(source, harness.loaded.config, now, include_private=False)
    text = exposition(collector).decode()
    assert 'upwatch_region_probe_success{monitor="api",region="eu"} 0.0' in text
    assert 'upwatch_region_probe_success{monitor="api",region="us"} 1.0' in text
    assert 'upwatch_region_probe_duration_seconds{monitor="api",region="ap"} 0.08' in text


async def beat(engine: AsyncEngine, name: str, region: str, now: datetime) -> None:
    async with engine.begin() as connection:
        await leases.beat(connection, name, 1, now, now, region=region)


async def region_notices(engine: AsyncEngine) -> list[str]:
    return [r.event for r in await outbox(engine, OUTBOX.c.event.like("region.%"))]


async def test_a_region_is_announced_unavailable_once_and_a_restart_does_not_announce_it_back(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    loaded = config(http("api", regions=["us", "eu"]))
    await make_harness(loaded)  # migrated, monitors written
    clock = Clock(at())
    watch = RegionWatch(engine, "us", clock=clock, config=lambda: loaded.config)
    await beat(engine, "eu-1", "eu", clock.now)
    await beat(engine, "us-1", "us", clock.now)
    eu = RegionWatch(engine, "eu", clock=clock, config=lambda: loaded.config)
    await eu.step()  # eu's instance reports its region
    await watch.step()
    assert watch.beating == {"us", "eu"}
    clock.now = at(seconds=45)  # eu's instance died at 0 s; us beats on
    await beat(engine, "us-1", "us", clock.now)
    await watch.step()
    assert await region_notices(engine) == ["region.unavailable"]
    assert watch.live == {"us"}
    await watch.step()
    assert await region_notices(engine) == ["region.unavailable"]  # once

    restarted = RegionWatch(engine, "us", clock=clock, config=lambda: loaded.config)
    await restarted.step()  # new, so eu still votes for a while, but nothing is announced
    assert restarted.live == {"us", "eu"}
    assert restarted.beating == {"us"}
    assert await region_notices(engine) == ["region.unavailable"]

    clock.now = at(seconds=60)
    await beat(engine, "eu-2", "eu", clock.now)
    await restarted.step()
    await watch.step()
    assert await region_notices(engine) == ["region.unavailable", "region.available"]
    (notice, _) = await outbox(engine, OUTBOX.c.event.like("region.%"))
    assert notice.channel == "team-slack"  # the default policy's first step
