"""Incidents through the real pipeline: confirmation, escalation, reminders, recovery, ack."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import (
    Clock,
    Harness,
    MakeHarness,
    acknowledge,
    at,
    claim,
    config,
    degraded,
    down,
    http,
    incidents,
    keys,
    mark_delivered,
    outbox,
    sent,
    state,
    up,
)
from upwatch.engine.model import EventType, Notice
from upwatch.store.outbox import enqueue
from upwatch.store.tables import OUTBOX

CRITICAL_API = http("api", name="Public API", escalation="critical")


async def confirmed(make_harness: MakeHarness, *monitors: dict[str, object]) -> Harness:
    """`api` (critical policy) confirmed down at T0+40s after downs at 0s, 20s and 40s."""
    harness = await make_harness(config(*(monitors or (CRITICAL_API,))))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))
    return harness


async def test_two_down_results_leave_the_monitor_up_and_open_no_incident(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))
    await harness.feed("api", up(at()), down(at(seconds=20)), down(at(seconds=40)))

    row = await state(engine, "api")
    assert (row.state, row.since, row.failure_run) == ("up", at(), 2)
    assert await incidents(engine) == []
    assert await outbox(engine) == []


async def test_the_third_down_result_confirms_an_incident_started_at_the_first(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    await confirmed(make_harness)

    [incident] = await incidents(engine)
    assert (incident.started_at, incident.confirmed_at) == (at(seconds=0), at(seconds=40))
    assert (incident.cause, incident.resolved_at, incident.policy_name) == (
        "expected status 200, got 503",
        None,
        "critical",
    )
    assert [s["channels"] for s in incident.policy] == [["team-slack"], ["oncall-email", "pager"]]
    row = await state(engine, "api")
    assert (row.state, row.since, row.open_incident_id) == ("down", at(), incident.id)
    [message] = await outbox(engine)
    assert message.key == f"incident:{incident.id}:incident.opened:0:0:team-slack"
    assert (message.event, message.channel, message.step, message.repeat) == (
        "incident.opened",
        "team-slack",
        0,
        0,
    )
    assert message.event_at == at(seconds=40)
    assert message.payload["incident"]["started_at"] == "2026-11-22T08:00:00Z"


async def test_a_later_step_is_enqueued_as_escalated_once_its_delay_has_passed(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await confirmed(make_harness)
    [incident] = await incidents(engine)

    await harness.flush(at(minutes=1, seconds=59))
    assert await sent(engine) == [("incident.opened", "team-slack")]

    await harness.flush(at(minutes=2))
    assert await keys(engine) == [
        f"incident:{incident.id}:incident.opened:0:0:team-slack",
        f"incident:{incident.id}:incident.escalated:1:0:oncall-email",
        f"incident:{incident.id}:incident.escalated:1:0:pager",
    ]


async def test_repeat_every_sends_reminders_and_missed_ones_collapse_into_one(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await confirmed(make_harness)
    [incident] = await incidents(engine)
    await harness.flush(at(minutes=2))

    await harness.flush(at(minutes=31, seconds=59))
    assert len(await outbox(engine)) == 3
    await harness.flush(at(minutes=32))
    await harness.flush(at(hours=2, minutes=3))  # reminders 2, 3 and 4 were all due: one is sent

    reminders = await outbox(engine, OUTBOX.c.event == "incident.reminder")
    assert [r.key for r in reminders] == [
        f"incident:{incident.id}:incident.reminder:1:1:oncall-email",
        f"incident:{incident.id}:incident.reminder:1:1:pager",
        f"incident:{incident.id}:incident.reminder:1:4:oncall-email",
        f"incident:{incident.id}:incident.reminder:1:4:pager",
    ]


async def test_steps_due_together_go_out_as_one_message_per_channel(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))
    harness.submit("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))

    await harness.flush(at(minutes=5))  # step 0 and step 1 are both due at the first evaluation

    assert await sent(engine) == [
        ("incident.opened", "team-slack"),
        ("incident.opened", "oncall-email"),
        ("incident.opened", "pager"),
    ]


async def test_recovery_resolves_at_the_first_good_result_and_tells_every_channel_told(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await confirmed(make_harness)
    await harness.flush(at(minutes=2))
    await mark_delivered(engine, at(minutes=2), "team-slack", "oncall-email")

    await harness.feed("api", up(at(minutes=5)), now=at(minutes=5, seconds=1))

    [incident] = await incidents(engine)
    assert (incident.resolved_at, incident.resolution) == (at(minutes=5), "recovered")
    resolved = await outbox(engine, OUTBOX.c.event == "incident.resolved")
    assert [r.channel for r in resolved] == ["oncall-email", "team-slack"]
    assert resolved[0].payload["incident"]["duration_seconds"] == 300
    [unsent] = await outbox(engine, OUTBOX.c.channel == "pager")
    assert unsent.cancelled_at == at(minutes=5, seconds=1)
    row = await state(engine, "api")
    assert (row.state, row.since, row.open_incident_id) == ("up", at(minutes=5), None)


async def test_a_step_being_sent_when_the_incident_resolves_is_followed_by_the_resolution(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await confirmed(make_harness)
    await harness.flush(at(minutes=2))
    await mark_delivered(engine, at(minutes=2), "team-slack", "oncall-email")
    await claim(engine, "pager", until=at(minutes=5, seconds=30))  # a worker is sending it

    await harness.feed("api", up(at(minutes=5)))

    [in_flight] = await outbox(
        engine, OUTBOX.c.event == "incident.escalated", OUTBOX.c.channel == "pager"
    )
    assert in_flight.cancelled_at is None
    resolved = await outbox(engine, OUTBOX.c.event == "incident.resolved")
    assert [r.channel for r in resolved] == ["oncall-email", "pager", "team-slack"]


async def test_no_step_or_reminder_is_enqueued_after_recovery(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await confirmed(make_harness)
    await mark_delivered(engine, at(seconds=41))
    await harness.feed("api", up(at(minutes=1)))

    await harness.flush(at(minutes=2))
    await harness.flush(at(hours=3))

    assert await sent(engine) == [
        ("incident.opened", "team-slack"),
        ("incident.resolved", "team-slack"),
    ]


async def test_recovery_threshold_needs_consecutive_good_results_and_resolves_at_the_first(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await confirmed(make_harness, {**CRITICAL_API, "recovery_threshold": 2})

    await harness.feed("api", up(at(minutes=1)), down(at(minutes=1, seconds=20)))
    assert (await incidents(engine))[0].resolved_at is None
    await harness.feed("api", up(at(minutes=1, seconds=40)), degraded(at(minutes=2)))

    [incident] = await incidents(engine)
    assert incident.resolved_at == at(minutes=1, seconds=40)
    assert (await state(engine, "api")).state == "degraded"


async def test_acknowledging_in_the_database_stops_further_steps_and_reminders(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await confirmed(make_harness)
    [incident] = await incidents(engine)
    await acknowledge(engine, incident.id, at(minutes=1))

    await harness.flush(at(minutes=2))
    await harness.flush(at(hours=1))

    assert await sent(engine) == [("incident.opened", "team-slack")]


async def test_acknowledging_between_a_step_and_its_reminders_stops_the_reminders(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await confirmed(make_harness)
    [incident] = await incidents(engine)
    await harness.flush(at(minutes=2))
    await acknowledge(engine, incident.id, at(minutes=10))

    await harness.flush(at(minutes=32))
    await harness.flush(at(hours=5))

    assert await outbox(engine, OUTBOX.c.event == "incident.reminder") == []


async def test_the_resolution_of_an_acknowledged_incident_says_it_was_acknowledged(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await confirmed(make_harness, http("api", escalation="default"))
    await mark_delivered(engine, at(seconds=41))
    [incident] = await incidents(engine)
    await acknowledge(engine, incident.id, at(minutes=1))

    await harness.feed("api", up(at(minutes=3)))

    [resolved] = await outbox(engine, OUTBOX.c.event == "incident.resolved")
    assert resolved.payload["incident"]["acknowledged"] is True
    assert resolved.payload["incident"]["acknowledged_at"] == "2026-11-22T08:01:00Z"


async def test_two_evaluators_flushing_the_same_incident_enqueue_each_message_once(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    first = await confirmed(make_harness)
    second = Harness(engine, first.loaded, Clock(at(minutes=1)), max_buffer=100)
    await second.start()  # an overlapping deployment that loaded the same incident

    await first.flush(at(minutes=2))
    await second.flush(at(minutes=2))
    await first.flush(at(minutes=32))
    await second.flush(at(minutes=32))

    found = await keys(engine)
    assert len(found) == len(set(found)) == 5


async def test_enqueueing_the_same_notice_twice_keeps_one_outbox_row(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    await make_harness(config(CRITICAL_API))
    notice = Notice(EventType.MONITOR_DEGRADED, "team-slack", "api", at=at(), data={"cause": "x"})

    async with engine.begin() as connection:
        assert await enqueue(connection, [notice], at()) == 1
    async with engine.begin() as connection:
        assert await enqueue(connection, [notice, notice], at(minutes=1)) == 0

    assert await keys(engine) == ["monitor:api:2026-11-22:monitor.degraded:-:0:team-slack"]


async def test_a_degraded_result_is_shown_at_once_and_notified_once_a_day(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))

    await harness.feed("api", degraded(at()), up(at(minutes=1)), degraded(at(minutes=2)))

    row = await state(engine, "api")
    assert (row.state, row.since, row.last_cause) == (
        "degraded",
        at(minutes=2),
        "responded in 900ms, expected under 500ms",
    )
    assert await sent(engine) == [("monitor.degraded", "team-slack")]
    assert await incidents(engine) == []


async def test_a_monitor_without_a_policy_records_its_incident_and_notifies_no_one(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await confirmed(make_harness, http("api", escalation="none"))
    await harness.feed("api", up(at(minutes=5)))

    [incident] = await incidents(engine)
    assert (incident.started_at, incident.resolved_at) == (at(), at(minutes=5))
    assert await outbox(engine) == []


async def test_a_failure_run_through_a_maintenance_window_confirms_at_its_end(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    window = {"name": "DB upgrade", "monitors": ["api"], "start": "2026-11-22T08:00:00Z"}
    window["end"] = "2026-11-22T08:10:00Z"
    harness = await make_harness(config(CRITICAL_API, maintenance=[window]))
    failures = [down(at(minutes=2) + timedelta(seconds=20 * n)) for n in range(20)]
    await harness.feed("api", *failures)
    assert await incidents(engine) == []
    assert await outbox(engine) == []

    await harness.flush(at(minutes=10, seconds=1))

    [incident] = await incidents(engine)
    assert (incident.started_at, incident.confirmed_at) == (at(minutes=10), at(minutes=10))
    assert await sent(engine) == [("incident.opened", "team-slack")]


async def test_a_step_due_inside_a_maintenance_window_fires_when_the_window_ends(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    window = {"name": "DB upgrade", "monitors": ["api"], "start": "2026-11-22T08:01:00Z"}
    window["end"] = "2026-11-22T08:10:00Z"
    harness = await make_harness(config(CRITICAL_API, maintenance=[window]))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))

    await harness.flush(at(minutes=2))
    await harness.flush(at(minutes=9, seconds=59))
    assert await sent(engine) == [("incident.opened", "team-slack")]
    await harness.flush(at(minutes=10))

    assert await sent(engine) == [
        ("incident.opened", "team-slack"),
        ("incident.escalated", "oncall-email"),
        ("incident.escalated", "pager"),
    ]


async def test_an_incident_may_resolve_inside_a_maintenance_window_and_it_is_announced(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    window = {"name": "DB upgrade", "monitors": ["api"], "start": "2026-11-22T08:01:00Z"}
    window["end"] = "2026-11-22T08:10:00Z"
    harness = await make_harness(config(CRITICAL_API, maintenance=[window]))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))
    await mark_delivered(engine, at(seconds=41))

    await harness.feed("api", up(at(minutes=5)))

    [incident] = await incidents(engine)
    assert incident.resolved_at == at(minutes=5)
    assert await sent(engine) == [
        ("incident.opened", "team-slack"),
        ("incident.resolved", "team-slack"),
    ]
