"""`GET /api/v1/status`: the documented shape, overall status, privacy, causes and uptime."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import (
    Harness,
    MakeHarness,
    at,
    config,
    degraded,
    down,
    heartbeat,
    http,
    up,
)
from upwatch.probes.result import ProbeResult, ProbeState

MakeClient = Callable[[Harness], httpx.AsyncClient]
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TOP_KEYS = {"status", "generated_at", "groups", "incidents", "announcements", "maintenance"}
MONITOR_KEYS = {
    "id",
    "name",
    "type",
    "state",
    "since",
    "cause",
    "last_checked_at",
    "uptime",
    "response_time_ms",
}
INCIDENT_KEYS = {
    "id",
    "monitor_id",
    "monitor_name",
    "title",
    "declared",
    "updates",
    "started_at",
    "confirmed_at",
    "resolved_at",
    "duration_seconds",
    "cause",
    "acknowledged_at",
}
WINDOW = {"name": "DB upgrade", "start": "2026-11-22T09:30:00Z", "end": "2026-11-22T11:00:00Z"}
ANNOUNCEMENT = {
    "title": "Degraded EU latency",
    "body": "We are working with our provider.",
    "severity": "minor",
    "start": "2026-11-22T07:00:00Z",
    "end": "2026-11-23T08:00:00Z",
}


async def status_of(harness: Harness, make_client: MakeClient) -> dict[str, Any]:
    response = await make_client(harness).get("/api/v1/status")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def monitors_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for group in document["groups"] for m in group["monitors"]}


def is_timestamp(value: object) -> bool:
    return isinstance(value, str) and ISO_Z.match(value) is not None


async def test_the_status_document_has_exactly_the_documented_keys_and_types(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    loaded = config(
        http("api", name="Public API", group="Core services", escalation="critical"),
        http("web", name="Website", group="Core services"),
        http("docs", name="Docs"),
        maintenance=[{**WINDOW, "monitors": ["web"]}],
        announcements=[ANNOUNCEMENT],
    )
    harness = await make_harness(loaded)
    await harness.feed("api", down(at(minutes=1)), down(at(minutes=2)), down(at(minutes=3)))
    await harness.feed("web", up(at(minutes=4), ms=83))
    harness.clock.now = at(hours=1)

    document = await status_of(harness, make_client)

    assert set(document) == TOP_KEYS
    assert (document["status"], document["generated_at"]) == (
        "partial_outage",
        "2026-11-22T09:00:00Z",
    )
    assert [(g["name"], [m["id"] for m in g["monitors"]]) for g in document["groups"]] == [
        ("Core services", ["api", "web"]),
        (None, ["docs"]),
    ]
    for group in document["groups"]:
        assert set(group) == {"name", "monitors"}
        for item in group["monitors"]:
            assert set(item) == MONITOR_KEYS
            assert set(item["uptime"]) == {"24h", "7d", "30d", "90d"}
            assert set(item["response_time_ms"]) == {"p50", "p95", "p99"}
    api = monitors_of(document)["api"]
    assert api == {
        "id": "api",
        "name": "Public API",
        "type": "http",
        "state": "down",
        "since": "2026-11-22T08:01:00Z",
        "cause": "Unexpected response",
        "last_checked_at": "2026-11-22T08:03:00Z",
        "uptime": {"24h": 0.0, "7d": 0.0, "30d": 0.0, "90d": 0.0},
        "response_time_ms": {"p50": 30, "p95": 30, "p99": 30},
    }
    [incident] = document["incidents"]
    assert set(incident) == INCIDENT_KEYS
    assert isinstance(incident["id"], int)
    assert (incident["monitor_id"], incident["duration_seconds"]) == ("api", 59 * 60)
    assert all(is_timestamp(incident[k]) for k in ("started_at", "confirmed_at"))
    assert (incident["resolved_at"], incident["acknowledged_at"]) == (None, None)
    assert document["announcements"] == [
        {**ANNOUNCEMENT, "start": "2026-11-22T07:00:00Z", "end": "2026-11-23T08:00:00Z"}
    ]
    assert document["maintenance"] == [
        {
            "name": "DB upgrade",
            "starts_at": "2026-11-22T09:30:00Z",
            "ends_at": "2026-11-22T11:00:00Z",
            "monitors": ["web"],
        }
    ]


async def test_a_monitor_without_results_shows_nulls_rather_than_leaving_keys_out(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(http("api", name="Public API")))

    document = await status_of(harness, make_client)

    assert monitors_of(document)["api"] == {
        "id": "api",
        "name": "Public API",
        "type": "http",
        "state": "unknown",
        "since": None,
        "cause": None,
        "last_checked_at": None,
        "uptime": {"24h": None, "7d": None, "30d": None, "90d": None},
        "response_time_ms": {"p50": None, "p95": None, "p99": None},
    }
    assert (document["status"], document["incidents"]) == ("unknown", [])
    assert (document["announcements"], document["maintenance"]) == ([], [])


OVERALL = [
    (["up", "up", "up", "up"], "operational"),
    (["down", "up", "up", "up"], "partial_outage"),
    (["down", "down", "up", "up"], "partial_outage"),  # half is not more than half
    (["down", "down", "down", "up"], "major_outage"),
    (["degraded", "up", "up", "up"], "degraded"),
    (["maintenance", "up", "up", "up"], "maintenance"),
    (["down", "maintenance", "up", "up"], "partial_outage"),
    (["degraded", "maintenance", "up", "up"], "degraded"),
    (["paused", "up", "up", "up"], "operational"),
    (["private-down", "private-down", "private-down", "up"], "operational"),
    # Monitors with no result yet are neither working nor failing: left out of the count.
    (["unknown", "unknown", "unknown", "unknown"], "unknown"),
    (["unknown", "unknown", "unknown", "up"], "operational"),
    (["unknown", "down", "down", "up"], "major_outage"),  # 2 of the 3 with data
    (["unknown", "unknown", "down", "up"], "partial_outage"),
]


@pytest.mark.parametrize(("shown", "expected"), OVERALL)
async def test_the_overall_status_follows_the_public_monitors_states(
    shown: list[str],
    expected: str,
    engine: AsyncEngine,
    make_harness: MakeHarness,
    make_client: MakeClient,
) -> None:
    monitors = [
        http(
            f"m{n}",
            failure_threshold=1,
            paused=kind == "paused",
            public=not kind.startswith("private"),
        )
        for n, kind in enumerate(shown)
    ]
    in_window = [f"m{n}" for n, kind in enumerate(shown) if kind == "maintenance"]
    windows = [{**WINDOW, "monitors": in_window}] if in_window else []
    harness = await make_harness(config(*monitors, maintenance=windows))
    answer: dict[str, Callable[[datetime], ProbeResult]] = {
        "down": down,
        "private-down": down,
        "degraded": degraded,
    }
    for n, kind in enumerate(shown):
        if kind != "unknown":
            harness.submit(f"m{n}", answer.get(kind, up)(at(minutes=59)))
    await harness.flush(at(hours=1, minutes=45))

    document = await status_of(harness, make_client)

    assert document["status"] == expected
    states = [m["state"] for m in monitors_of(document).values()]
    assert states == [kind for kind in shown if not kind.startswith("private")]


async def test_five_of_six_without_data_are_not_called_operational_on_the_page(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    names = ["api", "web", "db", "queue", "cdn", "mail"]
    harness = await make_harness(config(*(http(n) for n in names)))
    await harness.feed("api", up(at(minutes=1)))
    client = make_client(harness)

    document = (await client.get("/api/v1/status")).json()
    page = (await client.get("/")).text

    assert document["status"] == "operational"  # the one monitor with data is up
    assert [m["state"] for m in monitors_of(document).values()].count("unknown") == 5
    assert "All 6 services" not in page
    assert "1 of 6 services are working normally. 5 of 6 have no data yet." in page


async def test_when_no_monitor_has_a_result_the_status_is_unknown_on_the_page_and_the_api(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(*(http(f"m{n}") for n in range(6))))
    client = make_client(harness)

    document = (await client.get("/api/v1/status")).json()
    page = (await client.get("/")).text

    assert document["status"] == "unknown"
    assert 'class="banner b-unknown"' in page
    assert "<h2>No data yet</h2>" in page
    assert "None of the 6 services has reported a check yet." in page
    assert "All systems operational" not in page


def bar_classes(page: str, monitor_id: str) -> list[str]:
    """The colour of each run of equal days, oldest first."""
    start = page.index('<div class="bars"', page.index(f'href="/monitors/{monitor_id}"'))
    bars = page[start : page.index("</div></div>", start)]
    return re.findall(r'class="run (\w+)"', bars)


async def test_a_monitor_whose_only_probe_failed_is_not_drawn_as_100_percent_up(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    # One failure below failure_threshold confirms nothing: the monitor has no state yet, so it
    # has measured nothing, and no figure or bar may say 100 %.
    harness = await make_harness(config(http("api", failure_threshold=3)))
    await harness.feed("api", down(at(minutes=1)))
    harness.clock.now = at(hours=1)
    client = make_client(harness)

    document = (await client.get("/api/v1/status")).json()
    page = (await client.get("/")).text

    api = monitors_of(document)["api"]
    assert (api["state"], document["status"]) == ("unknown", "unknown")
    assert api["uptime"] == {"24h": None, "7d": None, "30d": None, "90d": None}
    assert set(bar_classes(page, "api")) == {"none"}
    assert "100% up" not in page


async def test_a_monitor_down_now_has_a_red_bar_today_however_short_the_outage(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(http("api", failure_threshold=1)))
    await harness.feed("api", up(at(minutes=1)))
    harness.clock.now = at(hours=23)
    await harness.feed("api", down(at(hours=23)))
    harness.clock.now = at(hours=23, minutes=2)
    client = make_client(harness)

    document = (await client.get("/api/v1/status")).json()
    page = (await client.get("/")).text

    assert monitors_of(document)["api"]["state"] == "down"
    assert bar_classes(page, "api")[-1] == "down"


async def test_private_and_archived_monitors_appear_nowhere_in_the_json_api(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    secret = http("secret", public=False, failure_threshold=1)
    backup = heartbeat("backup", "t0ken-backup", public=False)
    gone = http("gone", failure_threshold=1)
    api = http("api", failure_threshold=1)
    everything = [
        {**WINDOW, "monitors": ["*"]},
        {**WINDOW, "name": "Vault", "monitors": ["secret"]},
    ]
    harness = await make_harness(config(api, secret, backup, gone, maintenance=everything))
    for monitor_id in ("api", "secret", "gone"):
        await harness.feed(monitor_id, down(at(minutes=1)))
    await harness.reload(config(api, secret, backup, maintenance=everything), at(minutes=2))
    client = make_client(harness)

    document = (await client.get("/api/v1/status")).json()
    listed = (await client.get("/api/v1/incidents")).json()

    assert list(monitors_of(document)) == ["api"]
    assert [i["monitor_id"] for i in document["incidents"]] == ["api"]
    assert [i["monitor_id"] for i in listed["incidents"]] == ["api"]
    assert [(w["name"], w["monitors"]) for w in document["maintenance"]] == [
        ("DB upgrade", ["api"])
    ]
    assert document["status"] == "major_outage"  # the one public monitor is down
    for monitor_id in ("secret", "backup", "gone", "nope"):
        for path in (f"/api/v1/monitors/{monitor_id}", f"/api/v1/monitors/{monitor_id}/results"):
            response = await client.get(path)
            assert response.status_code == 404
            assert response.json() == {"error": "no such monitor"}


async def test_a_paused_monitor_is_shown_as_paused_with_its_history(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(http("api")))
    await harness.feed("api", up(at(minutes=1)))
    await harness.reload(config(http("api", paused=True)), at(minutes=30))
    harness.clock.now = at(hours=1)

    document = await status_of(harness, make_client)

    api = monitors_of(document)["api"]
    assert (api["state"], api["cause"], api["last_checked_at"]) == (
        "paused",
        None,
        "2026-11-22T08:01:00Z",
    )
    assert api["uptime"]["24h"] == 100.0
    assert document["status"] == "operational"


@pytest.mark.parametrize(
    ("show_urls", "shown"),
    [
        (False, "Connection refused"),
        (True, "connection refused (db.internal:5432, https://api.acme.test/health)"),
    ],
)
async def test_causes_leave_out_hostnames_and_urls_unless_show_urls_is_on(
    show_urls: bool,
    shown: str,
    engine: AsyncEngine,
    make_harness: MakeHarness,
    make_client: MakeClient,
) -> None:
    full = "connection refused (db.internal:5432, https://api.acme.test/health)"
    loaded = config(http("api", failure_threshold=1), status_page={"show_urls": show_urls})
    harness = await make_harness(loaded)
    await harness.feed("api", down(at(minutes=1), full, "connection refused"))
    client = make_client(harness)

    status = (await client.get("/api/v1/status")).json()
    detail = (await client.get("/api/v1/monitors/api")).json()
    found = (await client.get("/api/v1/monitors/api/results")).json()
    listed = (await client.get("/api/v1/incidents")).json()

    assert monitors_of(status)["api"]["cause"] == shown
    assert status["incidents"][0]["cause"] == shown
    assert (detail["cause"], detail["incidents"][0]["cause"]) == (shown, shown)
    assert found["results"][0]["cause"] == shown
    assert listed["incidents"][0]["cause"] == shown
    assert detail["target"] == ("https://api.acme.test/health" if show_urls else None)


async def test_uptime_is_computed_from_incident_intervals(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(http("api", failure_threshold=1)))
    await harness.feed("api", up(at()))
    await harness.feed("api", down(at(hours=10)), up(at(hours=10, minutes=36)))
    harness.clock.now = at(hours=24)

    uptime = monitors_of(await status_of(harness, make_client))["api"]["uptime"]

    # 36 minutes of 24 hours measured (there is no history before the first result).
    assert uptime == {"24h": 97.5, "7d": 97.5, "30d": 97.5, "90d": 97.5}


async def test_uptime_leaves_out_time_before_the_first_result_paused_and_in_maintenance(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    window = {"name": "Upgrade", "monitors": ["api"]}
    window |= {"start": "2026-11-23T02:00:00Z", "end": "2026-11-23T04:00:00Z"}
    api = http("api", failure_threshold=1)
    harness = await make_harness(config(api, maintenance=[window]))
    await harness.feed("api", up(at(hours=12)))  # first result: 20:00
    await harness.feed("api", down(at(hours=13)), up(at(hours=13, minutes=12)))
    await harness.reload(config({**api, "paused": True}, maintenance=[window]), at(hours=16))
    await harness.reload(config(api, maintenance=[window]), at(hours=17))
    await harness.feed("api", up(at(hours=17, minutes=1)))
    harness.clock.now = at(hours=24)

    uptime = monitors_of(await status_of(harness, make_client))["api"]["uptime"]

    # Measured: 12 h since the first result - 1 h paused - 2 h maintenance = 9 h; 12 min down.
    assert uptime["24h"] == 97.77
    assert uptime["90d"] == 97.77


async def test_response_times_are_the_nearest_rank_p50_p95_and_p99_of_the_last_day(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(http("api")))
    latencies = [40.0] * 10 + [120.0] * 9 + [2000.0]  # nearest rank: p50 40, p95 120, p99 2000
    await harness.feed(
        "api",
        *(
            ProbeResult(ProbeState.UP, at(hours=2, minutes=n), ms / 1000)
            for n, ms in enumerate(latencies)
        ),
    )
    harness.clock.now = at(hours=3)

    api = monitors_of(await status_of(harness, make_client))["api"]
    detail = (await make_client(harness).get("/api/v1/monitors/api")).json()

    for found in (api["response_time_ms"], detail["response_time_ms"]):
        assert all(isinstance(v, int) for v in found.values())
        assert found["p50"] == 40
        assert abs(found["p95"] - 120) <= 2.4
        assert abs(found["p99"] - 2000) <= 40


async def test_announcements_show_only_while_current(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    later = {**ANNOUNCEMENT, "title": "Planned move", "start": "2026-11-24T00:00:00Z"}
    harness = await make_harness(config(http("api"), announcements=[ANNOUNCEMENT, later]))

    harness.clock.now = at(hours=1)
    now_shown = (await status_of(harness, make_client))["announcements"]
    harness.clock.now = at(hours=24)
    next_day = (await status_of(harness, make_client))["announcements"]

    assert [a["title"] for a in now_shown] == ["Degraded EU latency"]
    assert next_day == []


async def test_the_api_and_the_page_tell_the_same_story_and_follow_a_state_change(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    # One snapshot serves both: what the page says is what the API says, even mid-change.
    harness = await make_harness(config(http("api"), http("web")))
    await harness.feed("api", up(at(minutes=1)))
    await harness.feed("web", up(at(minutes=1)))
    client = make_client(harness)

    async def both() -> tuple[str, str]:
        document = (await client.get("/api/v1/status")).json()
        page = (await client.get("/")).text
        match = re.search(r'class="banner b-([a-z_]+)"', page)
        assert match is not None
        return document["status"], match.group(1)

    assert await both() == ("operational", "operational")
    await harness.feed("api", *(down(at(minutes=m)) for m in (2, 3, 4)))

    deadline = asyncio.get_running_loop().time() + 10  # rebuilt at most once a second
    while (seen := await both()) != ("partial_outage", "partial_outage"):
        assert seen[0] == seen[1], seen
        assert asyncio.get_running_loop().time() < deadline, seen
        await asyncio.sleep(0.05)
