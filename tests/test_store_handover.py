"""Pausing, archiving and resuming decided by one instance, applied by the one holding the shard.

Any instance may reconcile a new config (the newest deployment does, while holding no shards
yet); only the holder of a monitor's shard judges it. The holder catches up from the database
when it takes the monitor: exactly once, at the time the change was made.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import (
    MakeHarness,
    at,
    config,
    down,
    http,
    incidents,
    mark_delivered,
    sent,
    state,
)
from upwatch.config.loader import LoadedConfig
from upwatch.runtime.holdings import record_config

API = http("api", escalation="critical")
OPENED = ("incident.opened", "team-slack")
RESOLVED = ("incident.resolved", "team-slack")


async def reconciled_elsewhere(engine: AsyncEngine, loaded: LoadedConfig, when: datetime) -> None:
    """Another instance, holding no shard, starts with `loaded`."""
    async with engine.begin() as connection:
        await record_config(connection, loaded, "newer-instance", when)


async def test_a_pause_reconciled_elsewhere_resolves_the_incident_once_when_the_holder_takes_it(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(API))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))
    await mark_delivered(engine, at(seconds=41))
    paused = config({**API, "paused": True})

    await reconciled_elsewhere(engine, paused, at(minutes=1))
    [incident] = await incidents(engine, "api")
    assert incident.resolved_at is None  # nobody holding the shard: nothing judged yet

    harness.loaded = paused
    await harness.restart(at(minutes=2))  # the holder takes the shard a minute later
    [incident] = await incidents(engine, "api")
    assert (incident.resolved_at, incident.resolution) == (at(minutes=1), "monitoring paused")
    await harness.restart(at(minutes=3))  # and again: already caught up
    assert await sent(engine) == [OPENED, RESOLVED]


async def test_a_removal_reconciled_elsewhere_resolves_the_incident_as_removed(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(API, http("web")))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))
    await mark_delivered(engine, at(seconds=41))
    without_api = config(http("web"))

    await reconciled_elsewhere(engine, without_api, at(minutes=1))
    harness.loaded = without_api
    await harness.restart(at(minutes=2))
    await harness.restart(at(minutes=3))

    [incident] = await incidents(engine, "api")
    assert (incident.resolved_at, incident.resolution) == (at(minutes=1), "monitor removed")
    assert await sent(engine) == [OPENED, RESOLVED]
    assert "api" not in harness.evaluator.states  # judged only to be resolved, then let go


async def test_a_resume_reconciled_elsewhere_starts_the_monitor_afresh_at_the_resume(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config({**API, "paused": True}))
    await reconciled_elsewhere(engine, config(API), at(minutes=10))

    harness.loaded = config(API)
    await harness.restart(at(minutes=11))
    row = await state(engine, "api")
    assert (row.state, row.since) == ("unknown", at(minutes=10))
    await harness.feed("api", down(at(minutes=12)))
    await harness.restart(at(minutes=13))  # caught up once: the failure run is kept
    assert (await state(engine, "api")).failure_run == 1
