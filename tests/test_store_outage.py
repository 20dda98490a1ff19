"""A database outage: results are buffered, nothing transitions, then all is judged in order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import (
    UNREACHABLE_DB,
    Harness,
    MakeHarness,
    at,
    commits_fail,
    config,
    down,
    http,
    incidents,
    outbox,
    results,
    sent,
    state,
    up,
)
from upwatch.store.database import create_engine

CRITICAL_API = http("api", name="Public API", escalation="critical")


@asynccontextmanager
async def database_unreachable(harness: Harness) -> AsyncIterator[None]:
    """Point the pipeline at a port nothing listens on; put the real database back after."""
    real = harness.pipeline.engine
    gone = create_engine(make_url(UNREACHABLE_DB))
    harness.pipeline.engine = gone
    try:
        yield
    finally:
        harness.pipeline.engine = real
        await gone.dispose()


async def test_while_the_database_is_unreachable_a_flush_fails_and_nothing_transitions(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))
    async with database_unreachable(harness):
        harness.submit("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))

        assert await harness.flush(at(minutes=1)) is False
        assert await harness.flush(at(minutes=2)) is False

    assert harness.pipeline.database_up is False
    assert [o.result.checked_at for o in harness.pipeline.buffer] == [
        at(seconds=0),
        at(seconds=20),
        at(seconds=40),
    ]
    assert harness.evaluator.states["api"].failure_run == 0
    assert await results(engine, "api") == []
    assert await incidents(engine) == []
    assert await outbox(engine) == []
    assert (await state(engine, "api")).state == "unknown"


async def test_when_the_database_returns_the_buffer_is_written_and_judged_in_order(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))
    await harness.feed("api", up(at()))
    async with database_unreachable(harness):
        harness.submit("api", down(at(seconds=60)), down(at(seconds=80)), down(at(seconds=100)))
        harness.submit("api", down(at(seconds=120)))
        assert await harness.flush(at(minutes=2, seconds=1)) is False

    assert await harness.flush(at(minutes=5)) is True

    assert harness.pipeline.database_up is True
    assert harness.pipeline.buffer == type(harness.pipeline.buffer)()
    written = await results(engine, "api")
    assert [r.checked_at for r in written] == [at(seconds=s) for s in (0, 60, 80, 100, 120)]
    [incident] = await incidents(engine)
    assert (incident.started_at, incident.confirmed_at) == (at(minutes=1), at(seconds=100))
    # Confirmed at 08:01:40 and its 2-minute step due at 08:03: one message per channel at 08:05.
    assert await sent(engine) == [
        ("incident.opened", "team-slack"),
        ("incident.opened", "oncall-email"),
        ("incident.opened", "pager"),
    ]
    assert {r.event_at for r in await outbox(engine)} == {at(minutes=5)}


async def test_a_lost_commit_leaves_no_incident_and_is_replayed_exactly_once(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)))

    with commits_fail(engine):
        harness.submit("api", down(at(seconds=40)))  # this one confirms the incident
        assert await harness.flush(at(seconds=41)) is False
    assert await incidents(engine) == []
    assert harness.evaluator.states["api"].open_incident is None

    assert await harness.flush(at(seconds=42)) is True

    [incident] = await incidents(engine)
    assert (incident.started_at, incident.confirmed_at) == (at(seconds=0), at(seconds=40))
    assert harness.evaluator.states["api"].open_incident is not None
    assert (await state(engine, "api")).open_incident_id == incident.id
    assert len(await results(engine, "api")) == 3
    assert await sent(engine) == [("incident.opened", "team-slack")]


async def test_a_lost_commit_of_a_recovery_keeps_the_incident_open_until_replayed(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))

    with commits_fail(engine):
        harness.submit("api", up(at(minutes=1)))
        assert await harness.flush(at(minutes=1)) is False
    assert (await incidents(engine))[0].resolved_at is None
    assert await harness.flush(at(minutes=1, seconds=1)) is True

    [incident] = await incidents(engine)
    assert incident.resolved_at == at(minutes=1)
    assert (await state(engine, "api")).state == "up"


async def test_a_full_buffer_drops_the_oldest_results_and_counts_them(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API), max_buffer=3)
    async with database_unreachable(harness):
        harness.submit("api", *(up(at(minutes=n)) for n in range(3)))
        assert await harness.flush(at(minutes=3)) is False
        harness.submit("api", up(at(minutes=3)), up(at(minutes=4)))
        assert harness.pipeline.dropped == 2

    assert await harness.flush(at(minutes=5)) is True

    kept = [r.checked_at for r in await results(engine, "api")]
    assert kept == [at(minutes=2), at(minutes=3), at(minutes=4)]
    assert harness.pipeline.dropped == 2


async def test_an_incident_that_began_and_ended_during_the_outage_is_in_the_history(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))
    async with database_unreachable(harness):
        harness.submit("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))
        harness.submit("api", up(at(minutes=3)))
        assert await harness.flush(at(minutes=4)) is False

    assert await harness.flush(at(minutes=10)) is True

    [incident] = await incidents(engine)
    assert (incident.started_at, incident.confirmed_at) == (at(), at(seconds=40))
    assert (incident.resolved_at, incident.resolution) == (at(minutes=3), "recovered")
    row = await state(engine, "api")
    assert (row.state, row.since, row.open_incident_id) == ("up", at(minutes=3), None)
