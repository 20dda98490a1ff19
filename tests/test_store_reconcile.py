"""Reconciling monitors.yaml with the database: same id = same history, archive, restore, pause."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import (
    MakeHarness,
    at,
    config,
    down,
    heartbeat,
    http,
    incidents,
    mark_delivered,
    monitor,
    outbox,
    periods,
    results,
    sent,
    state,
    up,
)
from upwatch.store.tables import OUTBOX

CRITICAL_API = http("api", name="Public API", group="Core services", escalation="critical")


async def test_new_monitors_are_created_with_a_row_and_an_unknown_state(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    await make_harness(config(CRITICAL_API, heartbeat("backup", "t0ken-backup", public=False)))

    api = await monitor(engine, "api")
    assert (api.name, api.group_name, api.type) == ("Public API", "Core services", "http")
    assert api.target == "https://api.acme.test/health"
    assert (api.interval_seconds, api.public, api.paused) == (60.0, True, False)
    assert (api.created_at, api.archived_at, api.first_result_at) == (at(), None, None)
    assert api.generation is not None
    backup = await monitor(engine, "backup")
    assert (backup.type, backup.public, backup.target) == ("heartbeat", False, None)
    for monitor_id in ("api", "backup"):
        row = await state(engine, monitor_id)
        assert (row.state, row.failure_run, row.open_incident_id) == ("unknown", 0, None)


async def test_renaming_a_monitor_keeps_its_history_and_its_failure_run(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)))

    renamed = http("api", name="API v2", url="https://v2.acme.test/ping", escalation="critical")
    await harness.reload(config(renamed), at(seconds=30))
    await harness.feed("api", down(at(seconds=40)))

    row = await monitor(engine, "api")
    assert (row.name, row.target, row.created_at) == ("API v2", "https://v2.acme.test/ping", at())
    assert len(await results(engine, "api")) == 3
    [incident] = await incidents(engine, "api")
    assert (incident.started_at, incident.confirmed_at) == (at(seconds=0), at(seconds=40))


async def test_a_removed_monitor_is_archived_and_its_open_incident_resolved_as_removed(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API, http("web")))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))
    await mark_delivered(engine, at(seconds=41))  # Slack was told
    await harness.flush(at(minutes=2))  # email and pager enqueued, not sent yet

    await harness.reload(config(http("web")), at(minutes=3))

    row = await monitor(engine, "api")
    assert row.archived_at == at(minutes=3)
    assert len(await results(engine, "api")) == 3
    [incident] = await incidents(engine, "api")
    assert (incident.resolved_at, incident.resolution) == (at(minutes=3), "monitor removed")
    resolved = await outbox(engine, OUTBOX.c.event == "incident.resolved")
    assert [r.channel for r in resolved] == ["team-slack"]
    assert resolved[0].payload["incident"]["resolution"] == "monitor removed"
    escalated = await outbox(engine, OUTBOX.c.event == "incident.escalated")
    assert {r.channel for r in escalated} == {"oncall-email", "pager"}
    assert all(r.cancelled_at == at(minutes=3) for r in escalated)
    [period] = await periods(engine, "api")
    assert (period.kind, period.started_at, period.ended_at) == ("archived", at(minutes=3), None)
    assert (await state(engine, "api")).state == "unknown"


async def test_results_for_an_archived_monitor_are_not_recorded(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API, http("web")))
    await harness.reload(config(http("web")), at(minutes=1))

    await harness.feed("api", down(at(minutes=2)), down(at(minutes=3)), down(at(minutes=4)))

    assert await results(engine, "api") == []
    assert await incidents(engine, "api") == []


async def test_an_archived_monitor_comes_back_with_its_history_when_its_id_returns(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))
    await harness.feed("api", up(at(minutes=1)))
    await harness.reload(config(http("web")), at(minutes=10))

    await harness.reload(config(CRITICAL_API, http("web")), at(minutes=30))
    await harness.feed("api", up(at(minutes=31)))

    row = await monitor(engine, "api")
    assert (row.archived_at, row.created_at, row.first_result_at) == (None, at(), at(minutes=1))
    [period] = await periods(engine, "api")
    assert (period.kind, period.started_at, period.ended_at) == (
        "archived",
        at(minutes=10),
        at(minutes=30),
    )
    assert [r.checked_at for r in await results(engine, "api")] == [at(minutes=1), at(minutes=31)]
    assert (await state(engine, "api")).state == "up"


async def test_pausing_resolves_the_open_incident_as_monitoring_paused(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(CRITICAL_API))
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))
    await mark_delivered(engine, at(seconds=41))

    await harness.reload(config({**CRITICAL_API, "paused": True}), at(minutes=1))

    [incident] = await incidents(engine, "api")
    assert (incident.resolved_at, incident.resolution) == (at(minutes=1), "monitoring paused")
    assert await sent(engine) == [
        ("incident.opened", "team-slack"),
        ("incident.resolved", "team-slack"),
    ]
    [period] = await periods(engine, "api")
    assert (period.kind, period.started_at, period.ended_at) == ("paused", at(minutes=1), None)
    assert (await monitor(engine, "api")).paused is True


async def test_a_paused_monitor_ignores_results_until_unpaused_and_then_starts_afresh(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config({**CRITICAL_API, "paused": True}))
    await harness.feed("api", down(at(minutes=1)), down(at(minutes=2)), down(at(minutes=3)))
    assert await results(engine, "api") == []

    await harness.reload(config(CRITICAL_API), at(minutes=10))
    await harness.feed("api", up(at(minutes=11)))

    [period] = await periods(engine, "api")
    assert (period.kind, period.started_at, period.ended_at) == ("paused", at(), at(minutes=10))
    row = await state(engine, "api")
    assert (row.state, row.since) == ("up", at(minutes=11))
    assert await incidents(engine, "api") == []


async def test_reconciling_an_unchanged_config_again_changes_nothing_users_see(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    loaded = config(CRITICAL_API, {**http("web"), "paused": True})
    harness = await make_harness(loaded)
    await harness.feed("api", down(at(seconds=0)), down(at(seconds=20)), down(at(seconds=40)))

    await harness.restart(at(minutes=1))
    await harness.reload(loaded, at(minutes=1, seconds=30))

    assert len(await periods(engine, "web")) == 1
    assert (await monitor(engine, "api")).archived_at is None
    [incident] = await incidents(engine, "api")
    assert incident.resolved_at is None
    assert await sent(engine) == [("incident.opened", "team-slack")]
