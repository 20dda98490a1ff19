"""`/api/v1/monitors/{id}`, `/api/v1/monitors/{id}/results` and `/api/v1/incidents`."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import Harness, MakeHarness, acknowledge, at, config, down, http, up

MakeClient = Callable[[Harness], httpx.AsyncClient]
LIMIT_ERROR = "limit must be a whole number from 1 to 1000"
SINCE_ERROR = "since must be an ISO 8601 time such as 2026-11-22T10:00:00Z"


async def flapping(make_harness: MakeHarness, count: int) -> Harness:
    """`api` down for 5 minutes at the top of each of `count` hours, recovered after."""
    harness = await make_harness(config(http("api", name="Public API", failure_threshold=1)))
    for hour in range(count):
        await harness.feed("api", down(at(hours=hour)), up(at(hours=hour, minutes=5)))
    return harness


async def test_monitor_details_describe_the_monitor_and_list_its_incidents(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    api = http("api", name="Public API", group="Core", description="The public REST API")
    harness = await make_harness(config({**api, "tags": ["api"], "interval": "5m"}))
    await harness.feed("api", down(at(minutes=1)), down(at(minutes=6)), down(at(minutes=11)))
    await harness.feed("api", up(at(minutes=16)))

    response = await make_client(harness).get("/api/v1/monitors/api")

    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("id", "name", "type", "state", "since")} == {
        "id": "api",
        "name": "Public API",
        "type": "http",
        "state": "up",
        "since": "2026-11-22T08:16:00Z",
    }
    assert (body["group"], body["description"], body["tags"]) == (
        "Core",
        "The public REST API",
        ["api"],
    )
    assert (body["interval_seconds"], body["paused"], body["target"]) == (300.0, False, None)
    assert body["created_at"] == "2026-11-22T08:00:00Z"
    [incident] = body["incidents"]
    assert (incident["started_at"], incident["resolved_at"], incident["duration_seconds"]) == (
        "2026-11-22T08:01:00Z",
        "2026-11-22T08:16:00Z",
        900,
    )


async def test_results_are_newest_first_and_capped_at_100_by_default(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(http("api")))
    await harness.feed("api", *(up(at(minutes=n), ms=80 + n) for n in range(120)))

    response = await make_client(harness).get("/api/v1/monitors/api/results")

    body = response.json()
    assert body["monitor_id"] == "api"
    assert len(body["results"]) == 100
    newest = body["results"][0]
    assert newest == {
        "checked_at": "2026-11-22T09:59:00Z",
        "state": "up",
        "duration_ms": 199.0,
        "status_code": 200,
        "cause": None,
        "phases_ms": {},
        "cert_expires_at": None,
        "region": None,  # probed without regions
    }
    assert body["results"][-1]["checked_at"] == "2026-11-22T08:20:00Z"


async def test_results_since_and_limit_pick_the_newest_results_after_a_time(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(http("api")))
    await harness.feed("api", *(up(at(minutes=n)) for n in range(10)))
    client = make_client(harness)

    limited = await client.get("/api/v1/monitors/api/results", params={"limit": "3"})
    since = await client.get(
        "/api/v1/monitors/api/results", params={"since": "2026-11-22T08:07:00Z"}
    )
    most = await client.get("/api/v1/monitors/api/results", params={"limit": "1000"})

    assert [r["checked_at"][11:16] for r in limited.json()["results"]] == [
        "08:09",
        "08:08",
        "08:07",
    ]
    assert [r["checked_at"][11:16] for r in since.json()["results"]] == ["08:09", "08:08", "08:07"]
    assert len(most.json()["results"]) == 10


@pytest.mark.parametrize(
    "since",
    ["2026-11-22T08:07:00Z", "2026-11-22T09:07:00+01:00", "2026-11-22T08:07:00"],
)
async def test_since_takes_utc_offsets_and_reads_a_time_without_one_as_utc(
    since: str, engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(http("api")))
    await harness.feed("api", *(up(at(minutes=n)) for n in range(10)))

    response = await make_client(harness).get(
        "/api/v1/monitors/api/results", params={"since": since}
    )

    assert len(response.json()["results"]) == 3


async def test_since_with_an_unencoded_plus_in_its_offset_still_means_that_offset(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(http("api")))
    await harness.feed("api", *(up(at(minutes=n)) for n in range(10)))

    # As typed into curl: the `+` arrives as a space.
    path = "/api/v1/monitors/api/results?since=2026-11-22T09:07:00+01:00"
    response = await make_client(harness).get(path)

    assert [r["checked_at"][11:16] for r in response.json()["results"]] == [
        "08:09",
        "08:08",
        "08:07",
    ]


@pytest.mark.parametrize("path", ["/api/v1/monitors/api/results", "/api/v1/incidents"])
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "0"}, LIMIT_ERROR),
        ({"limit": "1001"}, LIMIT_ERROR),
        ({"limit": "-5"}, LIMIT_ERROR),
        ({"limit": "ten"}, LIMIT_ERROR),
        ({"limit": ""}, LIMIT_ERROR),
        ({"since": "yesterday"}, SINCE_ERROR),
        ({"since": "2026-13-40T00:00:00Z"}, SINCE_ERROR),
    ],
)
async def test_a_bad_since_or_limit_is_a_400_that_says_what_to_write(
    path: str,
    query: dict[str, str],
    message: str,
    engine: AsyncEngine,
    make_harness: MakeHarness,
    make_client: MakeClient,
) -> None:
    harness = await make_harness(config(http("api")))

    response = await make_client(harness).get(path, params=query)

    assert response.status_code == 400
    assert response.json() == {"error": message}


async def test_incidents_are_listed_newest_first_with_since_and_limit(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await flapping(make_harness, 5)
    client = make_client(harness)

    everything = (await client.get("/api/v1/incidents")).json()["incidents"]
    two = (await client.get("/api/v1/incidents", params={"limit": "2"})).json()["incidents"]
    recent = (
        await client.get("/api/v1/incidents", params={"since": "2026-11-22T11:00:00Z"})
    ).json()["incidents"]

    starts = [i["started_at"][11:16] for i in everything]
    assert starts == ["12:00", "11:00", "10:00", "09:00", "08:00"]
    assert [i["started_at"][11:16] for i in two] == ["12:00", "11:00"]
    assert [i["started_at"][11:16] for i in recent] == ["12:00", "11:00"]
    assert everything[0] == {
        "id": everything[0]["id"],
        "monitor_id": "api",
        "monitor_name": "Public API",
        "title": "Public API",
        "declared": False,
        "started_at": "2026-11-22T12:00:00Z",
        "confirmed_at": "2026-11-22T12:00:00Z",
        "resolved_at": "2026-11-22T12:05:00Z",
        "duration_seconds": 300,
        "cause": "Unexpected response",
        "acknowledged_at": None,
        "updates": [],
    }


async def test_an_open_incident_lasts_until_now_and_shows_its_acknowledgement(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(http("api", failure_threshold=1)))
    await harness.feed("api", down(at()))
    incident_id = (await make_client(harness).get("/api/v1/incidents")).json()["incidents"][0]
    await acknowledge(engine, incident_id["id"], at(minutes=3))
    harness.clock.now = at(minutes=10)

    [incident] = (await make_client(harness).get("/api/v1/incidents")).json()["incidents"]

    assert (incident["resolved_at"], incident["duration_seconds"]) == (None, 600)
    assert incident["acknowledged_at"] == "2026-11-22T08:03:00Z"
