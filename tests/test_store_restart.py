"""A restart resumes exactly from the database: runs, open incidents and escalation progress."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import (
    MakeHarness,
    acknowledge,
    at,
    config,
    down,
    http,
    incidents,
    mark_delivered,
    outbox,
    sent,
    state,
    up,
)
from upwatch.store.tables import OUTBOX

CRITICAL_API = http("api", name="Public API", escalation="critical")


async def test_a_failure_run_cut_by_a_restart_confirms_with_its_original_start(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)))

    await harness.restart(at(seconds=30))
    assert harness.evaluator.failing() == ["api"]  # probed on the retry interval at once
    await harness.feed("api", down(at(seconds=40)))

    [incident] = await incidents(engine)
    assert (incident.started_at, incident.confirmed_at) == (at(seconds=0), at(seconds=40))
    assert await sent(engine) == [("incident.opened", "team-slack")]


async def test_an_incident_announced_before_a_restart_is_not_announced_again(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))

    await harness.restart(at(minutes=1))
    await harness.feed("api", down(at(minutes=1)), down(at(minutes=1, seconds=20)))

    assert len(await incidents(engine)) == 1
    assert len(await outbox(engine, OUTBOX.c.event == "incident.opened")) == 1
    row = await state(engine, "api")
    assert (row.state, row.failure_run) == ("down", 5)


async def test_escalation_resumes_on_its_original_schedule_after_each_restart(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))

    await harness.restart(at(minutes=1))
    await harness.flush(at(minutes=1, seconds=59))
    assert len(await outbox(engine)) == 1
    await harness.flush(at(minutes=2))
    await harness.restart(at(minutes=10))
    await harness.flush(at(minutes=31))
    assert len(await outbox(engine)) == 3
    await harness.restart(at(minutes=31, seconds=30))
    await harness.flush(at(minutes=32))

    assert await sent(engine) == [
        ("incident.opened", "team-slack"),
        ("incident.escalated", "oncall-email"),
        ("incident.escalated", "pager"),
        ("incident.reminder", "oncall-email"),
        ("incident.reminder", "pager"),
    ]


async def test_reminders_missed_while_upwatch_was_down_collapse_into_one(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))
    await harness.flush(at(minutes=2))

    await harness.restart(at(hours=3, minutes=5))  # down from 08:03 to 11:05
    await harness.flush()

    reminders = await outbox(engine, OUTBOX.c.event == "incident.reminder")
    assert [(r.channel, r.repeat) for r in reminders] == [("oncall-email", 6), ("pager", 6)]


async def test_a_recovery_after_a_restart_is_announced_to_the_channels_told_before_it(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))
    await mark_delivered(engine, at(seconds=41))

    await harness.restart(at(minutes=1))
    await harness.feed("api", up(at(minutes=1, seconds=10)))

    [incident] = await incidents(engine)
    assert incident.resolved_at == at(minutes=1, seconds=10)
    assert await sent(engine) == [
        ("incident.opened", "team-slack"),
        ("incident.resolved", "team-slack"),
    ]


async def test_an_acknowledgement_made_before_a_restart_keeps_escalation_stopped(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))
    [incident] = await incidents(engine)
    await acknowledge(engine, incident.id, at(minutes=1))

    await harness.restart(at(minutes=1, seconds=30))
    await harness.flush(at(minutes=2))
    await harness.flush(at(hours=1))

    assert await sent(engine) == [("incident.opened", "team-slack")]


async def test_a_policy_edited_by_a_redeploy_does_not_change_an_open_incident(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))

    harness.loaded = config(http("api", name="Public API", escalation="default"))
    await harness.restart(at(minutes=1))
    await harness.flush(at(minutes=2))

    assert [c for e, c in await sent(engine) if e == "incident.escalated"] == [
        "oncall-email",
        "pager",
    ]


async def test_a_slot_fired_again_after_a_restart_does_not_count_twice_toward_recovery(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config({**CRITICAL_API, "recovery_threshold": 2}))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))
    await harness.feed("api", up(at(minutes=1)))

    await harness.restart(at(minutes=1, seconds=0.1))
    await harness.feed("api", up(at(minutes=1, seconds=0.28)))
    assert (await incidents(engine))[0].resolved_at is None
    await harness.feed("api", up(at(minutes=1, seconds=10.28)))

    [incident] = await incidents(engine)
    assert incident.resolved_at == at(minutes=1)
    assert (await state(engine, "api")).last_success_counted_at is None
