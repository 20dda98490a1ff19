"""Heartbeat monitors: check-ins are results, a missed deadline is a down result that confirms."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import (
    MakeHarness,
    at,
    config,
    heartbeat,
    incidents,
    mark_delivered,
    monitor,
    results,
    sent,
    state,
)

BACKUP = heartbeat("backup", "t0ken-backup", interval="1h", grace="10m", escalation="critical")
MISSED = "no check-in for 1h 10m (expected every 1h, 10m grace)"


async def test_a_check_in_is_an_up_result_and_moves_the_deadline(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(BACKUP))

    harness.check_in("backup", at(minutes=30), ok=True)
    await harness.flush(at(minutes=30, seconds=1))

    [result] = await results(engine, "backup")
    assert (result.checked_at, result.state) == (at(minutes=30), "up")
    row = await state(engine, "backup")
    assert (row.state, row.last_checkin_at, row.deadline_at) == (
        "up",
        at(minutes=30),
        at(hours=1, minutes=40),
    )
    assert (await monitor(engine, "backup")).first_result_at == at(minutes=30)


async def test_a_missed_deadline_is_a_down_result_at_the_deadline_confirmed_at_once(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(BACKUP))
    harness.check_in("backup", at(minutes=30), ok=True)
    await harness.flush(at(minutes=31))

    await harness.flush(at(hours=1, minutes=39, seconds=59))
    assert await incidents(engine) == []
    await harness.flush(at(hours=1, minutes=40, seconds=1))

    missed = (await results(engine, "backup"))[-1]
    assert (missed.checked_at, missed.state, missed.cause) == (
        at(hours=1, minutes=40),
        "down",
        MISSED,
    )
    [incident] = await incidents(engine)
    assert (incident.started_at, incident.confirmed_at, incident.cause) == (
        at(hours=1, minutes=40),
        at(hours=1, minutes=40),
        MISSED,
    )
    assert await sent(engine) == [("incident.opened", "team-slack")]


async def test_a_heartbeat_that_never_checks_in_misses_the_deadline_counted_from_creation(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(BACKUP))

    await harness.flush(at(hours=2))

    [missed] = await results(engine, "backup")
    assert (missed.checked_at, missed.state) == (at(hours=1, minutes=10), "down")
    [incident] = await incidents(engine)
    assert incident.started_at == at(hours=1, minutes=10)
    # Its first result is the miss: uptime counts the silence as downtime, not as "no data".
    assert (await monitor(engine, "backup")).first_result_at == at(hours=1, minutes=10)


async def test_one_silence_is_one_miss_however_many_flushes_pass(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(BACKUP))

    for minutes in (71, 72, 130, 300):
        await harness.flush(at(minutes=minutes))

    assert len(await results(engine, "backup")) == 1
    assert len(await incidents(engine)) == 1


async def test_a_reported_failure_is_a_down_result_that_waits_for_the_failure_threshold(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(BACKUP))

    harness.check_in("backup", at(minutes=5), ok=False)
    harness.check_in("backup", at(minutes=10), ok=False)
    await harness.flush(at(minutes=11))
    assert await incidents(engine) == []
    harness.check_in("backup", at(minutes=15), ok=False)
    await harness.flush(at(minutes=16))

    assert [(r.state, r.cause) for r in await results(engine, "backup")] == [
        ("down", "reported failure")
    ] * 3
    [incident] = await incidents(engine)
    assert (incident.started_at, incident.cause) == (at(minutes=5), "reported failure")


async def test_a_heartbeat_deadline_survives_a_restart(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(BACKUP))
    harness.check_in("backup", at(minutes=30), ok=True)
    await harness.flush(at(minutes=31))

    await harness.restart(at(hours=1))
    await harness.flush(at(hours=3))

    [incident] = await incidents(engine)
    assert incident.started_at == at(hours=1, minutes=40)


async def test_a_check_in_after_a_missed_deadline_resolves_the_incident(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(BACKUP))
    await harness.flush(at(hours=1, minutes=11))
    await mark_delivered(engine, at(hours=1, minutes=11))

    harness.check_in("backup", at(hours=1, minutes=20), ok=True)
    await harness.flush(at(hours=1, minutes=20))

    [incident] = await incidents(engine)
    assert (incident.resolved_at, incident.resolution) == (at(hours=1, minutes=20), "recovered")
    assert await sent(engine) == [
        ("incident.opened", "team-slack"),
        ("incident.resolved", "team-slack"),
    ]
    row = await state(engine, "backup")
    assert (row.state, row.deadline_at) == ("up", at(hours=2, minutes=30))


async def test_a_deadline_missed_inside_maintenance_confirms_when_the_window_ends(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    window = {"name": "Backup host upgrade", "monitors": ["backup"]}
    window |= {"start": "2026-11-22T09:00:00Z", "end": "2026-11-22T10:00:00Z"}
    harness = await make_harness(config(BACKUP, maintenance=[window]))

    await harness.flush(at(hours=1, minutes=11))  # the deadline, 09:10, fell inside the window
    assert [r.checked_at for r in await results(engine, "backup")] == [at(hours=1, minutes=10)]
    assert await incidents(engine) == []
    await harness.flush(at(hours=2, minutes=0, seconds=1))

    [incident] = await incidents(engine)
    assert (incident.started_at, incident.confirmed_at) == (at(hours=2), at(hours=2))
    assert await sent(engine) == [("incident.opened", "team-slack")]


async def test_a_paused_heartbeat_misses_nothing_and_counts_its_deadline_from_the_resume(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config({**BACKUP, "paused": True}))
    await harness.flush(at(hours=5))
    assert await results(engine, "backup") == []

    await harness.reload(config(BACKUP), at(hours=6))
    await harness.flush(at(hours=7, minutes=9))
    assert await results(engine, "backup") == []
    await harness.flush(at(hours=7, minutes=10))

    [incident] = await incidents(engine)
    assert incident.started_at == at(hours=7, minutes=10)
