"""`GET|POST /ack/{token}` through the real app on both databases: GET never changes anything,
POST acknowledges once, cancels what was not sent yet and tells every channel that was told."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests import notify_receivers as nr
from tests.notify_receivers import (
    SECRET_KEY,
    T0,
    Clock,
    HttpReceiver,
    notify_config,
    outbox_rows,
    seed_incident,
    seed_notices,
)
from upwatch.config.loader import LoadedConfig
from upwatch.engine.model import EventType, Incident, Notice
from upwatch.engine.payload import incident_data
from upwatch.notify.links import ack_token
from upwatch.notify.worker import DeliveryWorker
from upwatch.runtime.health import Health
from upwatch.runtime.settings import Settings
from upwatch.store.tables import INCIDENTS, OUTBOX
from upwatch.web.app import create_app
from upwatch.web.context import AppContext

http_receivers = nr.http_receivers
make_worker = nr.make_worker

CHANNELS = {
    "team-slack": {"type": "slack", "webhook_url": "http://127.0.0.1:9/T/B/x"},
    "pager": {"type": "webhook", "url": "http://127.0.0.1:9/hook"},
}


@pytest.fixture
def loaded() -> LoadedConfig:
    return notify_config(CHANNELS)


@pytest.fixture
async def client_for(
    engine: AsyncEngine,
) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    opened: list[httpx.AsyncClient] = []

    def make(
        loaded: LoadedConfig, clock: Clock, secret_key: str | None = SECRET_KEY
    ) -> httpx.AsyncClient:
        env = {"UPWATCH_INSTANCE": "test"}
        if secret_key:
            env["UPWATCH_SECRET_KEY"] = secret_key
        ctx = AppContext(
            Settings.from_env(env),
            Health(config_loaded=True, migrated=True),
            loaded,
            engine=engine,
            clock=clock,
        )
        transport = httpx.ASGITransport(app=create_app(ctx))
        client = httpx.AsyncClient(transport=transport, base_url="https://status.acme.test")
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


def link(incident: Incident, expires: Any = None) -> str:
    assert incident.id is not None
    return f"/ack/{ack_token(SECRET_KEY, incident.id, expires or T0 + timedelta(days=7))}"


async def incident_row(engine: AsyncEngine, incident_id: int | None) -> Any:
    async with engine.connect() as connection:
        query = select(INCIDENTS).where(INCIDENTS.c.id == incident_id)
        return (await connection.execute(query)).one()


async def test_get_shows_the_incident_and_a_button_and_changes_nothing(
    engine: AsyncEngine, loaded: LoadedConfig, client_for: Callable[..., httpx.AsyncClient]
) -> None:
    incident = await seed_incident(engine, loaded)
    clock = Clock(T0 + timedelta(minutes=5))
    client = client_for(loaded, clock)
    before = await outbox_rows(engine)

    for _ in range(3):  # a mail scanner, a link preview, the person
        response = await client.get(link(incident))
        assert response.status_code == 200

    page = response.text
    assert "Public API is DOWN" in page
    assert "expected status 200, got 503" in page
    assert "2026-11-22 07:59 UTC" in page  # since
    assert '<form method="post">' in page
    assert ">Acknowledge</button>" in page
    assert "<script" not in page
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert (await incident_row(engine, incident.id)).acknowledged_at is None
    assert await outbox_rows(engine) == before


async def test_post_acknowledges_cancels_unsent_steps_and_tells_every_told_channel_once(
    engine: AsyncEngine, loaded: LoadedConfig, client_for: Callable[..., httpx.AsyncClient]
) -> None:
    incident = await seed_incident(engine, loaded)
    async with engine.begin() as connection:  # the first step's messages went out
        await connection.execute(update(OUTBOX).values(attempts=1, delivered_at=T0))
    escalation = Notice(
        EventType.INCIDENT_ESCALATED,
        "pager",
        "api",
        at=T0 + timedelta(minutes=2),
        incident_id=incident.id,
        step=1,
        data=incident_data(incident, T0 + timedelta(minutes=2), step=1),
    )
    await seed_notices(engine, (escalation,), T0 + timedelta(minutes=2))
    clock = Clock(T0 + timedelta(minutes=3))
    client = client_for(loaded, clock)

    first = await client.post(link(incident))
    second = await client.post(link(incident))

    assert first.status_code == 200
    assert "Acknowledged" in first.text
    assert "Telling pager, team-slack that it was acknowledged." in first.text
    assert second.status_code == 200
    assert "Already acknowledged" in second.text
    row = await incident_row(engine, incident.id)
    assert row.acknowledged_at == clock.now
    assert row.acknowledged_by == "acknowledge link"
    rows = await outbox_rows(engine)
    cancelled = [r.event for r in rows if r.cancelled_at is not None]
    assert cancelled == ["incident.escalated"]  # not sent yet: cancelled
    acknowledged = [(r.channel, r.event_at) for r in rows if r.event == "incident.acknowledged"]
    assert sorted(acknowledged) == [("pager", clock.now), ("team-slack", clock.now)]


async def test_a_message_being_sent_is_not_cancelled_and_its_channel_hears_of_the_ack(
    engine: AsyncEngine, loaded: LoadedConfig, client_for: Callable[..., httpx.AsyncClient]
) -> None:
    incident = await seed_incident(engine, loaded)
    now = T0 + timedelta(seconds=30)
    async with engine.begin() as connection:  # a worker claimed both and is sending them
        claimed = update(OUTBOX).values(attempts=1, claimed_until=now + timedelta(seconds=60))
        await connection.execute(claimed)
    assert (await client_for(loaded, Clock(now)).post(link(incident))).status_code == 200
    rows = await outbox_rows(engine)
    assert [r.cancelled_at for r in rows if r.event == "incident.opened"] == [None, None]
    told = sorted(r.channel for r in rows if r.event == "incident.acknowledged")
    assert told == ["pager", "team-slack"]


@pytest.mark.parametrize(
    ("token", "says"),
    [
        ("1.9999999999.AAAA", "This acknowledge link is not valid"),
        ("not-a-token", "This acknowledge link is not valid"),
    ],
)
async def test_a_tampered_token_gets_a_clear_403(
    engine: AsyncEngine,
    loaded: LoadedConfig,
    client_for: Callable[..., httpx.AsyncClient],
    token: str,
    says: str,
) -> None:
    await seed_incident(engine, loaded)
    client = client_for(loaded, Clock())
    for method in ("GET", "POST"):
        response = await client.request(method, f"/ack/{token}")
        assert response.status_code == 403
        assert says in response.text
    assert (await incident_row(engine, 1)).acknowledged_at is None


async def test_a_changed_incident_number_is_tampering(
    engine: AsyncEngine, loaded: LoadedConfig, client_for: Callable[..., httpx.AsyncClient]
) -> None:
    incident = await seed_incident(engine, loaded)
    forged = link(incident).replace("/ack/1.", "/ack/2.")
    response = await client_for(loaded, Clock()).post(forged)
    assert response.status_code == 403


async def test_an_expired_token_gets_a_clear_403(
    engine: AsyncEngine, loaded: LoadedConfig, client_for: Callable[..., httpx.AsyncClient]
) -> None:
    incident = await seed_incident(engine, loaded)
    client = client_for(loaded, Clock(T0 + timedelta(days=8)))
    response = await client.post(link(incident))
    assert response.status_code == 403
    assert "This acknowledge link has expired" in response.text
    assert "expired 2026-11-29 08:00 UTC" in response.text
    assert (await incident_row(engine, incident.id)).acknowledged_at is None


async def test_without_a_secret_key_acknowledging_is_off(
    engine: AsyncEngine, loaded: LoadedConfig, client_for: Callable[..., httpx.AsyncClient]
) -> None:
    incident = await seed_incident(engine, loaded)
    response = await client_for(loaded, Clock(), secret_key=None).post(link(incident))
    assert response.status_code == 403
    assert "Acknowledging is turned off" in response.text


async def test_a_resolved_incident_gets_a_clear_page_and_nothing_changes(
    engine: AsyncEngine, loaded: LoadedConfig, client_for: Callable[..., httpx.AsyncClient]
) -> None:
    incident = await seed_incident(engine, loaded)
    resolved_at = T0 + timedelta(minutes=11)
    async with engine.begin() as connection:
        statement = update(INCIDENTS).where(INCIDENTS.c.id == incident.id)
        await connection.execute(statement.values(resolved_at=resolved_at, resolution="recovered"))
    client = client_for(loaded, Clock(T0 + timedelta(minutes=20)))
    before = await outbox_rows(engine)

    shown = await client.get(link(incident))
    posted = await client.post(link(incident))

    assert shown.status_code == 200
    assert posted.status_code == 409
    for response in (shown, posted):
        assert "Already resolved" in response.text
        assert "recovered 2026-11-22 08:11 UTC, after 12m" in response.text
        assert "<form" not in response.text
    assert (await incident_row(engine, incident.id)).acknowledged_at is None
    assert await outbox_rows(engine) == before


async def test_an_unknown_incident_is_a_404_page(
    engine: AsyncEngine, loaded: LoadedConfig, client_for: Callable[..., httpx.AsyncClient]
) -> None:
    await seed_incident(engine, loaded)
    response = await client_for(loaded, Clock()).get(
        f"/ack/{ack_token(SECRET_KEY, 999, T0 + timedelta(days=1))}"
    )
    assert response.status_code == 404
    assert "No such incident" in response.text


async def test_the_acknowledgement_reaches_the_told_channels(
    engine: AsyncEngine,
    http_receivers: Callable[..., HttpReceiver],
    make_worker: Callable[..., DeliveryWorker],
    client_for: Callable[..., httpx.AsyncClient],
) -> None:
    receiver = http_receivers()
    loaded = notify_config({"pager": {"type": "webhook", "url": receiver.url("/hook")}})
    incident = await seed_incident(engine, loaded)
    clock = Clock()
    worker = make_worker(loaded, clock)
    await worker.run_once()  # the "down" message, with its acknowledge link
    ack_url = receiver.requests[0].json()["data"]["ack_url"]
    assert ack_url.startswith("https://status.acme.test/ack/")

    clock.now = T0 + timedelta(minutes=4)
    response = await client_for(loaded, clock).post(ack_url)
    assert response.status_code == 200
    await worker.run_once()

    body = receiver.requests[1].json()
    assert body["type"] == "incident.acknowledged"
    assert body["data"]["incident"]["acknowledged"] is True
    assert body["data"]["incident"]["id"] == incident.id
    assert body["data"]["ack_url"] is None
