"""Alert quality through the real pipeline and evaluator: severity, flap damping, dependencies,
and a day of transient failures that must page no one."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import (
    MakeHarness,
    at,
    config,
    down,
    http,
    incidents,
    outbox,
    sent,
    state,
    up,
)
from upwatch.config.loader import LoadedConfig
from upwatch.probes.result import ProbeResult
from upwatch.store.tables import OUTBOX

TIERED = {
    "tiered": [
        {"after": "0s", "notify": ["team-slack"]},
        {"after": "5m", "notify": ["pager"], "severities": ["critical"]},
    ]
}


def escalations(**extra: object) -> dict[str, object]:
    from tests.store_helpers import ESCALATIONS

    return {**ESCALATIONS, **TIERED, **extra}


async def test_a_step_with_severities_fires_only_for_those_and_severity_is_in_every_payload(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    loaded = config(
        http("api", escalation="tiered", failure_threshold=1),
        http("blog", escalation="tiered", failure_threshold=1, severity="warning"),
        escalations=escalations(),
    )
    harness = await make_harness(loaded)
    harness.submit("api", down(at()))
    harness.submit("blog", down(at()))
    await harness.flush(at())
    await harness.flush(at(minutes=6))

    told = [(r.monitor_id, r.event, r.channel) for r in await outbox(engine)]
    assert told == [
        ("api", "incident.opened", "team-slack"),
        ("blog", "incident.opened", "team-slack"),
        ("api", "incident.escalated", "pager"),  # the warning never reaches the pager
    ]
    severities = {r.monitor_id: r.payload["monitor"]["severity"] for r in await outbox(engine)}
    assert severities == {"api": "critical", "blog": "warning"}
    [api, blog] = await incidents(engine)
    assert (api.severity, blog.severity) == ("critical", "warning")


def flaky(policy: str, *, within: str) -> LoadedConfig:
    """`flaky`: confirmed on one failure, flapping after 4 changes within `within`."""
    return config(
        http(
            "flaky",
            escalation=policy,
            failure_threshold=1,
            flapping={"changes": 4, "within": within},
        )
    )


def flapping_target(minutes: int, *, every: timedelta, period: timedelta) -> list[ProbeResult]:
    """Probes every `every` for `minutes` of a target down for `period`, up for `period`, ..."""
    found = []
    t = timedelta(0)
    while t < timedelta(minutes=minutes):
        is_down = (t // period) % 2 == 0
        found.append((down if is_down else up)(at() + t))
        t += every
    return found


async def test_a_target_flapping_for_an_hour_pages_at_most_once_per_episode(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(flaky("default", within="30m"))
    results = flapping_target(60, every=timedelta(seconds=30), period=timedelta(minutes=2))
    results += [up(at(minutes=60) + timedelta(seconds=30 * i)) for i in range(80)]  # 40 min up
    for result in results:
        await harness.feed("flaky", result)
    await harness.flush(at(minutes=100))

    per_event = Counter(event for event, channel in await sent(engine) if channel == "team-slack")
    assert per_event["incident.opened"] <= 2
    assert per_event["monitor.flapping"] == 1
    assert per_event["monitor.settled"] == 1
    assert len(await incidents(engine)) == 15  # every incident is still recorded
    [settled] = await outbox(engine, OUTBOX.c.event == "monitor.settled")
    assert settled.payload["flapping"]["state"] == "up"
    # Settled 30 minutes after the last change (the recovery at 58m), not at the next probe.
    assert settled.event_at == at(minutes=58 + 30)
    row = await state(engine, "flaky")
    assert (row.state, row.flapping_since) == ("up", None)


async def test_a_monitor_that_settles_down_escalates_from_the_moment_it_settled(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(flaky("critical", within="10m"))
    for minute, result in enumerate([down, up, down, up, down]):
        await harness.feed("flaky", result(at(minutes=minute)))  # flapping from the 4th change
    for second in range(0, 15 * 60, 30):  # down from minute 4 on: the last change
        await harness.feed("flaky", down(at(minutes=5, seconds=second)))

    events = [e for e, _ in await sent(engine)]
    assert events.count("monitor.flapping") == 1
    assert events.count("monitor.settled") == 1
    [settled] = await outbox(engine, OUTBOX.c.event == "monitor.settled")
    assert settled.event_at == at(minutes=4 + 10)
    assert settled.payload["flapping"]["state"] == "down"
    last = (await incidents(engine))[-1]
    told = await outbox(engine, OUTBOX.c.incident_id == last.id)
    assert sorted({(r.event, r.event_at) for r in told}) == [
        ("incident.escalated", at(minutes=16)),  # step 1 two minutes later
        ("incident.opened", at(minutes=14)),  # step 0 at the settle time
    ]


async def test_a_database_outage_with_five_dependents_pages_once(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    apps = [f"app{i}" for i in range(5)]
    loaded = config(
        http("database", escalation="critical"),
        *(http(a, escalation="critical", depends_on=["database"]) for a in apps),
    )
    harness = await make_harness(loaded)
    for second in range(0, 10 * 60, 20):  # all six down for ten minutes
        for monitor_id in ["database", *apps]:
            harness.submit(monitor_id, down(at(seconds=second)))
        await harness.flush(at(seconds=second))

    pages = [(r.monitor_id, r.event) for r in await outbox(engine)]
    assert {m for m, _ in pages} == {"database"}
    assert len(await incidents(engine)) == 6  # still recorded and shown
    held = {r.monitor_id: r.held_by for r in await incidents(engine)}
    assert held == {"database": None, **dict.fromkeys(apps, "depends_on:database")}


async def test_a_dependent_still_failing_after_its_parent_recovers_escalates_from_then(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    loaded = config(
        http("database", escalation="default"),
        http("app", escalation="critical", depends_on=["database"]),
    )
    harness = await make_harness(loaded)
    for second in range(0, 120, 20):
        harness.submit("database", down(at(seconds=second)))
        harness.submit("app", down(at(seconds=second)))
        await harness.flush(at(seconds=second))
    harness.submit("database", up(at(seconds=120)))  # the parent is back; app still fails
    harness.submit("app", down(at(seconds=120)))
    await harness.flush(at(seconds=120))
    await harness.flush(at(seconds=240))

    app = [(r.event, r.event_at) for r in await outbox(engine, OUTBOX.c.monitor_id == "app")]
    assert list(dict.fromkeys(app)) == [
        ("incident.opened", at(seconds=120)),
        ("incident.escalated", at(seconds=240)),  # step 1 (after 2m) counts from the release
    ]


async def test_a_day_of_one_percent_transient_failures_at_30s_opens_no_incident(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(http("api", escalation="critical", failure_threshold=3)))
    rng = random.Random(20261203)
    day = [(down if rng.random() < 0.01 else up)(at(seconds=30 * i)) for i in range(24 * 60 * 2)]
    assert sum(r.is_down for r in day) > 20  # the failures are there
    for start in range(0, len(day), 120):  # flushed once an hour
        await harness.feed("api", *day[start : start + 120])

    assert await incidents(engine) == []
    assert await outbox(engine) == []
