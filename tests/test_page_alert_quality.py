"""What the page and the API say about flapping monitors and incidents held by a dependency."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.page_data import client
from tests.store_helpers import MakeHarness, at, config, down, http, up


async def test_a_flapping_monitor_is_shown_as_flapping_and_the_page_says_degraded(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    loaded = config(
        http("flaky", name="Flaky", failure_threshold=1, flapping={"changes": 4, "within": "30m"}),
        http("steady", name="Steady"),
    )
    harness = await make_harness(loaded)
    await harness.feed("steady", up(at()))
    for minute, result in enumerate([down, up, down, up]):
        await harness.feed("flaky", result(at(minutes=minute)))

    async with client(harness) as c:
        status = (await c.get("/api/v1/status")).json()
        html = (await c.get("/")).text
        badge = (await c.get("/badge/flaky.svg")).text
    states = {m["id"]: m["state"] for g in status["groups"] for m in g["monitors"]}
    assert states == {"flaky": "flapping", "steady": "up"}
    assert status["status"] == "degraded"
    assert "Slower, degraded or unsteady: Flaky." in html
    assert "Flapping" in html
    assert "flapping" in badge

    for second in range(0, 31 * 60, 60):  # up and quiet for 31 minutes: settled
        await harness.feed("flaky", up(at(minutes=4, seconds=second)))
    async with client(harness) as c:
        status = (await c.get("/api/v1/status")).json()
    assert status["status"] == "operational"


async def test_a_held_incident_says_it_waits_on_a_dependency_without_naming_a_private_one(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    loaded = config(
        http("database", name="Database", public=False),
        http("app", name="App", depends_on=["database"], failure_threshold=1),
    )
    harness = await make_harness(loaded)
    harness.submit("database", down(at()))
    harness.submit("app", down(at()))
    await harness.flush(at())

    async with client(harness) as c:
        html = (await c.get("/")).text
    assert "App is down while a service it depends on is down" in html
    assert "database" not in html.lower()
