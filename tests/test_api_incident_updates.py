"""Written updates and hand-declared incidents: `POST /api/v1/incidents` and `POST
/api/v1/incidents/{id}/updates` through the real app and database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import (
    Harness,
    MakeHarness,
    at,
    config,
    down,
    http,
    incidents,
    outbox,
    up,
)
from upwatch.store.tables import OUTBOX

MakeClient = Callable[[Harness], httpx.AsyncClient]
TOKEN = "t0ken-for-the-api-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UPDATED = "incident.updated"


@pytest.fixture
def writer(make_client: Callable[..., httpx.AsyncClient]) -> Any:
    """A client on an app whose UPWATCH_API_TOKEN is TOKEN (or `token`)."""

    def make(harness: Harness, token: str | None = TOKEN) -> httpx.AsyncClient:
        return make_client(harness, api_token=token)

    return make


def declaring(**fields: Any) -> dict[str, Any]:
    return {"title": "Login is slow", "body": "We are looking into slow logins.", **fields}


async def test_without_a_token_configured_writes_are_refused(
    make_harness: MakeHarness, writer: Any
) -> None:
    client = writer(await make_harness(config(http("api"))), None)

    response = await client.post("/api/v1/incidents", json=declaring(), headers=AUTH)

    assert response.status_code == 403
    assert response.json() == {
        "error": "writing through the API is off: set UPWATCH_API_TOKEN to turn it on"
    }


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN])
async def test_a_wrong_or_missing_token_is_401_with_www_authenticate(
    engine: AsyncEngine, make_harness: MakeHarness, writer: Any, header: str | None
) -> None:
    client = writer(await make_harness(config(http("api"))))
    headers = {} if header is None else {"Authorization": header}

    response = await client.post("/api/v1/incidents", json=declaring(), headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="upwatch api"'
    assert response.json()["error"].startswith("unauthorized")
    assert await incidents(engine) == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"not json", "body must be a JSON object"),
        (b"[1, 2]", "body must be a JSON object"),
        (b'{"body": "words"}', "title is required"),
        (b'{"title": " ", "body": "words"}', "title string should have at least 1 character"),
        (b'{"title": "t", "body": "b", "status": "fixed"}', "status input should be "),
        (b'{"title": "t", "body": "b", "severity": "huge"}', "severity input should be "),
        (b'{"title": "t", "body": "b", "colour": "red"}', "colour is not a known field"),
        (b'{"title": "t", "body": "b", "monitors": ["nope"]}', "monitors names no monitor nope"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    engine: AsyncEngine, make_harness: MakeHarness, writer: Any, body: bytes, error: str
) -> None:
    client = writer(await make_harness(config(http("api"))))
    headers = {**AUTH, "Content-Type": "application/json"}

    response = await client.post("/api/v1/incidents", content=body, headers=headers)

    assert response.status_code == 400
    assert response.json()["error"].startswith(error)
    assert await incidents(engine) == []


async def test_an_update_on_no_such_incident_is_404(make_harness: MakeHarness, writer: Any) -> None:
    client = writer(await make_harness(config(http("api"))))
    update = {"status": "monitoring", "body": "words"}

    for path in ("/api/v1/incidents/999/updates", "/api/v1/incidents/x1/updates"):
        response = await client.post(path, json=update, headers=AUTH)
        assert response.status_code == 404
        assert response.json() == {"error": "no such incident"}
    bad = await client.post("/api/v1/incidents/1/updates", json={"body": "b"}, headers=AUTH)
    assert (bad.status_code, bad.json()) == (400, {"error": "status is required"})


async def test_declare_update_and_a_resolved_update_closes_it(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient, writer: Any
) -> None:
    loaded = config(http("api", name="Public API"), status_page={"updates_policy": "critical"})
    harness = await make_harness(loaded)
    client = writer(harness)

    declared = await client.post("/api/v1/incidents", json=declaring(), headers=AUTH)

    assert declared.status_code == 201
    body = declared.json()
    assert {k: body[k] for k in ("monitor_id", "monitor_name", "title", "declared")} == {
        "monitor_id": None,
        "monitor_name": None,
        "title": "Login is slow",
        "declared": True,
    }
    assert (body["resolved_at"], body["cause"]) == (None, None)
    assert body["updates"] == [
        {
            "at": "2026-11-22T08:00:00Z",
            "status": "investigating",
            "body": body["updates"][0]["body"],
        }
    ]
    incident_id = body["id"]
    public = client  # the same app: a write shows at once on the page and the API
    [shown] = (await public.get("/api/v1/status")).json()["incidents"]
    assert (shown["id"], shown["title"], shown["declared"]) == (incident_id, "Login is slow", True)

    harness.clock.now = at(minutes=10)
    path = f"/api/v1/incidents/{incident_id}/updates"
    found = await client.post(
        path, json={"status": "identified", "body": "A bad cache."}, headers=AUTH
    )
    assert found.status_code == 201
    assert found.json()["resolved_at"] is None
    harness.clock.now = at(minutes=20)
    fixed = await client.post(path, json={"status": "resolved", "body": "Fixed."}, headers=AUTH)

    assert fixed.status_code == 201
    assert fixed.json()["resolved_at"] == "2026-11-22T08:20:00Z"
    assert [(u["status"], u["at"][11:16]) for u in fixed.json()["updates"]] == [
        ("investigating", "08:00"),
        ("identified", "08:10"),
        ("resolved", "08:20"),
    ]
    assert (await public.get("/api/v1/status")).json()["incidents"] == []
    [listed] = (await public.get("/api/v1/incidents")).json()["incidents"]
    assert (listed["id"], listed["duration_seconds"], len(listed["updates"])) == (
        incident_id,
        1200,
        3,
    )
    # Each update went, once, to the first step of status_page.updates_policy ("critical").
    rows = await outbox(engine, OUTBOX.c.event == UPDATED)
    assert [(r.channel, r.incident_id, r.monitor_id) for r in rows] == [
        ("team-slack", incident_id, None)
    ] * 3
    assert len({r.key for r in rows}) == 3
    assert rows[-1].payload["update"]["status"] == "resolved"
    assert rows[-1].payload["update"]["title"] == "Login is slow"


async def test_without_an_updates_policy_a_declared_incident_tells_no_channel(
    engine: AsyncEngine, make_harness: MakeHarness, writer: Any
) -> None:
    client = writer(await make_harness(config(http("api"))))

    response = await client.post("/api/v1/incidents", json=declaring(), headers=AUTH)

    assert response.status_code == 201
    assert await outbox(engine) == []


async def test_an_update_on_a_monitor_incident_goes_to_the_channels_told_and_keeps_it_open(
    engine: AsyncEngine, make_harness: MakeHarness, writer: Any
) -> None:
    api = http("api", name="Public API", failure_threshold=1, escalation="default")
    harness = await make_harness(config(api))
    await harness.feed("api", down(at(minutes=1)))
    [incident] = await incidents(engine, "api")
    client = writer(harness)
    path = f"/api/v1/incidents/{incident.id}/updates"

    harness.clock.now = at(minutes=5)
    response = await client.post(
        path, json={"status": "resolved", "body": "Fixed, we think."}, headers=AUTH
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["monitor_id"], body["title"], body["declared"]) == ("api", "Public API", False)
    assert body["resolved_at"] is None  # closes only when the monitor recovers
    assert [u["status"] for u in body["updates"]] == ["resolved"]
    [still] = await incidents(engine, "api")
    assert still.resolved_at is None
    [row] = await outbox(engine, OUTBOX.c.event == UPDATED)
    assert (row.channel, row.monitor_id, row.incident_id) == ("team-slack", "api", incident.id)
    assert row.key.startswith(f"incident:{incident.id}:update:")
    # The monitor recovering closes it, as ever.
    await harness.feed("api", up(at(minutes=6)))
    [closed] = await incidents(engine, "api")
    assert closed.resolved_at == at(minutes=6)


async def test_a_declared_incident_naming_a_monitor_never_counts_against_its_uptime(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient, writer: Any
) -> None:
    api = http("api", name="Public API", slo={"target": "99.9%", "window": "30d"})
    harness = await make_harness(config(api, http("db")))
    await harness.feed("api", up(at()))
    client = writer(harness)
    declared = await client.post(
        "/api/v1/incidents", json=declaring(monitors=["api"], severity="warning"), headers=AUTH
    )
    assert declared.status_code == 201
    assert (declared.json()["monitor_id"], declared.json()["monitor_name"]) == ("api", "Public API")

    await harness.feed("api", up(at(hours=2)))
    harness.clock.now = at(hours=2)
    detail = (await make_client(harness).get("/api/v1/monitors/api")).json()

    assert detail["state"] == "up"
    assert detail["uptime"]["24h"] == 100.0
    assert detail["slo"]["budget_left_percent"] == 100.0
    assert [i["declared"] for i in detail["incidents"]] == [True]
    db = (await make_client(harness).get("/api/v1/monitors/db")).json()
    assert db["incidents"] == []
    # The evaluator never loads it: only the monitor's own incidents are in its state.
    assert [i.monitor_id for i in await incidents(engine)] == [None]
