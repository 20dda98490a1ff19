"""Email subscriptions end to end: the real app, store and delivery worker against a real
aiosmtpd server, on SQLite and PostgreSQL. Subscribe, confirm by the mailed link, hear of a
public incident (with RFC 8058 one-click unsubscribe headers), unsubscribe, hear nothing more."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import structlog
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests import notify_receivers as nr
from tests.notify_receivers import SECRET_KEY, T0, Clock, SmtpServer, notify_config
from upwatch.config.loader import LoadedConfig
from upwatch.engine.context import policy_steps
from upwatch.engine.model import EscalationProgress, EventType, Incident, Resolution
from upwatch.notify.worker import DeliveryWorker
from upwatch.runtime.health import Health
from upwatch.runtime.settings import Settings
from upwatch.store import incident_effects as effects
from upwatch.store import subscribers
from upwatch.store.monitors import reconcile
from upwatch.store.tables import OUTBOX, SUBSCRIBE_REQUESTS, SUBSCRIBERS
from upwatch.web.app import create_app
from upwatch.web.context import AppContext

smtp_servers = nr.smtp_servers
make_worker = nr.make_worker

READER = "reader@example.com"
TECHNICAL = "expected status 200, got 503 from https://api.acme.test/health"
PUBLIC = "HTTP 503"


def config(smtp: SmtpServer | None, *, subscriptions: bool = True) -> LoadedConfig:
    url = smtp.url() if smtp else "smtp://127.0.0.1:9"
    page: dict[str, Any] = {"title": "Acme status", "public_url": "https://status.acme.test"}
    if subscriptions:
        page["subscriptions"] = {"email_channel": "status-mail"}
    monitor = {"url": "https://api.acme.test/health", "escalation": "critical"}
    return notify_config(
        {
            "status-mail": {
                "type": "email",
                "smtp_url": url,
                "from": "status@acme.test",
                "to": ["team@acme.test"],
            }
        },
        monitors=[
            {"id": "api", "name": "Public API", **monitor},
            {"id": "billing", "name": "Billing internals", "public": False, **monitor},
        ],
        status_page=page,
    )


@pytest.fixture
async def client_for(engine: AsyncEngine) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    opened: list[httpx.AsyncClient] = []

    def make(loaded: LoadedConfig, clock: Clock, peer: str = "203.0.113.7") -> httpx.AsyncClient:
        env = {"UPWATCH_INSTANCE": "test", "UPWATCH_SECRET_KEY": SECRET_KEY}
        ctx = AppContext(
            Settings.from_env(env),
            Health(config_loaded=True, migrated=True),
            loaded,
            engine=engine,
            clock=clock,
        )
        transport = httpx.ASGITransport(app=create_app(ctx), client=(peer, 40000))
        client = httpx.AsyncClient(transport=transport, base_url="https://status.acme.test")
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


async def reconciled(engine: AsyncEngine, loaded: LoadedConfig) -> None:
    async with engine.begin() as connection:
        await reconcile(connection, loaded.config, T0)


async def open_incident(engine: AsyncEngine, loaded: LoadedConfig, monitor_id: str) -> Incident:
    """An incident confirmed as the evaluator confirms it, through `incident_effects`."""
    monitor = loaded.config.monitor(monitor_id)
    assert monitor is not None
    incident = Incident(
        monitor_id,
        started_at=T0 - timedelta(minutes=1),
        confirmed_at=T0,
        cause=TECHNICAL,
        public_cause=PUBLIC,
        policy_name=monitor.escalation_policy,
        policy=policy_steps(loaded.config, monitor.escalation_policy),
    )
    async with engine.begin() as connection:
        incident = await effects.open_incident(connection, incident)
        # The evaluator's next step: the policy's first step (the team's own message).
        await effects.escalate(connection, incident, EscalationProgress(), T0, in_maintenance=False)
    return incident


async def resolve(engine: AsyncEngine, incident: Incident, at: Any) -> None:
    resolved = replace(incident, resolved_at=at, resolution=Resolution.RECOVERED)
    async with engine.begin() as connection:
        await effects.resolve(connection, resolved, at)


async def drain(worker: DeliveryWorker) -> None:
    """Run the worker until nothing is due (a fan-out row makes more rows due)."""
    for _ in range(10):
        if await worker.run_once() == 0:
            return
    raise AssertionError("the outbox never settled")


def to_reader(server: SmtpServer) -> list[EmailMessage]:
    return [
        m
        for m, (_, rcpts) in zip(server.mailbox.messages, server.mailbox.envelopes, strict=True)
        if READER in rcpts
    ]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def path_in(text: str, prefix: str) -> str:
    found = re.search(rf"https://status\.acme\.test({prefix}/\S+)", text)
    assert found is not None, text
    return found[1]


async def subscribed(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as connection:
        return list(await connection.execute(select(SUBSCRIBERS)))


async def test_a_subscriber_confirms_hears_of_a_public_incident_and_unsubscribes_in_one_click(
    engine: AsyncEngine,
    smtp_servers: Callable[[str], SmtpServer],
    client_for: Callable[..., httpx.AsyncClient],
    make_worker: Callable[..., DeliveryWorker],
) -> None:
    server, clock = smtp_servers("plain"), Clock()
    loaded = config(server)
    await reconciled(engine, loaded)
    client, worker = client_for(loaded, clock), make_worker(loaded, clock)

    answer = await client.post("/subscribe", data={"email": "Reader@Example.com"})
    assert answer.status_code == 200
    assert "Check your inbox" in answer.text
    assert "reader@" not in answer.text.lower()
    await drain(worker)
    [confirmation] = to_reader(server)
    assert server.mailbox.envelopes[-1][1] == [READER]  # to the subscriber alone
    confirm = path_in(text_of(confirmation), "/subscribe/confirm")

    shown = await client.get(confirm)  # what a mail scanner does: changes nothing
    assert shown.status_code == 200
    assert '<form method="post">' in shown.text
    assert (await subscribed(engine))[0].confirmed_at is None
    confirmed = await client.post(confirm)
    assert confirmed.status_code == 200
    assert "Subscribed" in confirmed.text

    incident = await open_incident(engine, loaded, "api")
    await drain(worker)
    [_, opened] = to_reader(server)
    assert opened["To"] == READER
    assert "team@acme.test" not in str(opened["To"]) + str(opened.get("Cc", ""))
    assert opened["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(
        r"<https://status\.acme\.test(/unsubscribe/\S+)>", str(opened["List-Unsubscribe"])
    )
    assert unsubscribe is not None
    text = text_of(opened)
    assert "Public API" in text
    assert PUBLIC in text
    assert TECHNICAL not in text
    assert "/ack/" not in text
    assert "/ack/" not in str(opened.get_body(("html",)))
    team = [rcpts for _, rcpts in server.mailbox.envelopes if "team@acme.test" in rcpts]
    assert team == [["team@acme.test"]]  # the team's own message, without subscribers

    one_click = await client.post(
        unsubscribe[1],
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    clock.advance(minutes=5)
    await resolve(engine, incident, clock.now)
    await drain(worker)
    assert len(to_reader(server)) == 2  # nothing after unsubscribing
    assert len(server.mailbox.messages) == 4  # the team heard of the resolution


async def test_a_resolution_reaches_a_subscriber_who_heard_of_the_incident(
    engine: AsyncEngine,
    smtp_servers: Callable[[str], SmtpServer],
    make_worker: Callable[..., DeliveryWorker],
) -> None:
    server, clock = smtp_servers("plain"), Clock()
    loaded = config(server)
    await reconciled(engine, loaded)
    await add_subscriber(engine)
    incident = await open_incident(engine, loaded, "api")
    worker = make_worker(loaded, clock)
    await drain(worker)
    clock.advance(minutes=12)
    await resolve(engine, incident, clock.now)
    await drain(worker)
    subjects = [str(m["Subject"]) for m in to_reader(server)]
    assert subjects == ["[Acme status] Public API: incident", "[Acme status] Public API: resolved"]
    assert "after 13m" in text_of(to_reader(server)[1])


async def add_subscriber(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        row = {"address": READER, "created_at": T0, "confirmed_at": T0}
        await connection.execute(SUBSCRIBERS.insert(), row)


async def test_an_incident_on_a_private_monitor_sends_nothing_to_subscribers(
    engine: AsyncEngine,
    smtp_servers: Callable[[str], SmtpServer],
    make_worker: Callable[..., DeliveryWorker],
) -> None:
    server, clock = smtp_servers("plain"), Clock()
    loaded = config(server)
    await reconciled(engine, loaded)
    await add_subscriber(engine)
    await open_incident(engine, loaded, "billing")
    await drain(make_worker(loaded, clock))
    assert to_reader(server) == []
    assert [rcpts for _, rcpts in server.mailbox.envelopes] == [["team@acme.test"]]
    async with engine.connect() as connection:
        channels = {r.channel for r in await connection.execute(select(OUTBOX.c.channel))}
    assert channels == {"status-mail"}


async def test_nobody_subscribed_adds_no_outbox_row(engine: AsyncEngine) -> None:
    loaded = config(None)
    await reconciled(engine, loaded)
    await open_incident(engine, loaded, "api")
    async with engine.connect() as connection:
        channels = {r.channel for r in await connection.execute(select(OUTBOX.c.channel))}
    assert channels == {"status-mail"}


async def test_the_sixth_request_in_an_hour_from_one_client_is_refused(
    engine: AsyncEngine, client_for: Callable[..., httpx.AsyncClient]
) -> None:
    loaded = config(None)
    client = client_for(loaded, Clock())
    for n in range(5):
        answer = await client.post("/subscribe", data={"email": f"r{n}@example.com"})
        assert answer.status_code == 200
    refused = await client.post("/subscribe", data={"email": "r6@example.com"})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert len(await subscribed(engine)) == 5


async def test_without_subscriptions_the_paths_are_404_and_the_page_has_no_form(
    engine: AsyncEngine, client_for: Callable[..., httpx.AsyncClient]
) -> None:
    loaded = config(None, subscriptions=False)
    await reconciled(engine, loaded)
    client = client_for(loaded, Clock())
    assert (await client.post("/subscribe", data={"email": READER})).status_code == 404
    assert (await client.get("/subscribe/confirm/1.2.x")).status_code == 404
    assert 'action="/subscribe"' not in (await client.get("/")).text
    with_form = client_for(config(None), Clock())
    page = (await with_form.get("/")).text
    assert 'action="/subscribe"' in page
    assert 'type="application/feed+json" title="Incident history (JSON Feed)"' in page


@pytest.mark.parametrize(
    "token", ["1.99.abc", "x" * 5000, "12.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]
)
async def test_a_changed_or_made_up_link_is_a_403_page(
    engine: AsyncEngine, client_for: Callable[..., httpx.AsyncClient], token: str
) -> None:
    client = client_for(config(None), Clock())
    for path in (f"/subscribe/confirm/{token}", f"/unsubscribe/{token}"):
        for method in ("GET", "POST"):
            answer = await client.request(method, path)
            assert answer.status_code == 403, (method, path)
            assert "not valid" in answer.text


async def test_an_address_is_never_shown_in_pages_api_feeds_or_logs(
    engine: AsyncEngine,
    smtp_servers: Callable[[str], SmtpServer],
    client_for: Callable[..., httpx.AsyncClient],
    make_worker: Callable[..., DeliveryWorker],
) -> None:
    server, clock = smtp_servers("plain"), Clock()
    loaded = config(server)
    await reconciled(engine, loaded)
    client = client_for(loaded, clock)
    with structlog.testing.capture_logs() as logs:
        answers = [await client.post("/subscribe", data={"email": READER})]
        await drain(make_worker(loaded, clock))
        confirm = path_in(text_of(to_reader(server)[0]), "/subscribe/confirm")
        answers += [await client.get(confirm), await client.post(confirm)]
        await open_incident(engine, loaded, "api")
        await drain(make_worker(loaded, clock))
        for path in (
            "/",
            "/monitors/api",
            "/api/v1/status",
            "/api/v1/incidents",
            "/feed.atom",
            "/feed.json",
            "/metrics",
        ):
            answers.append(await client.get(path))
    assert len(to_reader(server)) == 2
    for answer in answers:
        assert "reader" not in answer.text, answer.url
    assert "reader" not in repr(logs)


async def test_the_json_feed_lists_public_incidents_as_json_feed_1_1(
    engine: AsyncEngine, client_for: Callable[..., httpx.AsyncClient]
) -> None:
    loaded = config(None)
    await reconciled(engine, loaded)
    await open_incident(engine, loaded, "api")
    await open_incident(engine, loaded, "billing")
    answer = await client_for(loaded, Clock(T0 + timedelta(minutes=1))).get("/feed.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/feed+json")
    feed = answer.json()
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "Acme status: incidents"
    assert feed["feed_url"] == "https://status.acme.test/feed.json"
    assert feed["home_page_url"] == "https://status.acme.test/"
    [item] = feed["items"]  # the private monitor's incident is left out
    assert set(item) >= {"id", "url", "title", "content_text", "date_published"}
    assert item["url"] == "https://status.acme.test/monitors/api"
    assert item["title"] == "Public API is down"
    assert item["date_published"] == "2026-11-22T07:59:00Z"
    assert TECHNICAL not in item["content_text"]


async def test_unsubscribing_drops_a_message_not_yet_sent(
    engine: AsyncEngine,
    smtp_servers: Callable[[str], SmtpServer],
    make_worker: Callable[..., DeliveryWorker],
) -> None:
    server, clock = smtp_servers("plain"), Clock()
    loaded = config(server)
    await reconciled(engine, loaded)
    await add_subscriber(engine)
    await open_incident(engine, loaded, "api")
    async with engine.begin() as connection:
        await connection.execute(SUBSCRIBERS.update().values(unsubscribed_at=T0))
    await drain(make_worker(loaded, clock))
    assert to_reader(server) == []


class RefusingMailbox(nr.Mailbox):
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return f"550 5.1.1 <{address}>: no such mailbox"


async def test_a_refused_address_is_masked_in_the_stored_error_and_the_log(
    engine: AsyncEngine, make_worker: Callable[..., DeliveryWorker]
) -> None:
    port = nr.free_port()
    controller = Controller(RefusingMailbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        loaded = config(SmtpServer(controller, controller.handler, port))
        await reconciled(engine, loaded)
        await add_subscriber(engine)
        await open_incident(engine, loaded, "api")
        with structlog.testing.capture_logs() as logs:
            await drain(make_worker(loaded, Clock()))
    finally:
        controller.stop()
    async with engine.connect() as connection:
        rows = list(await connection.execute(select(OUTBOX).where(OUTBOX.c.failed_at.is_not(None))))
    assert rows, "the refusal is permanent"
    assert all("reader" not in (r.last_error or "") for r in rows)
    assert any("550" in (r.last_error or "") for r in rows)
    assert "reader" not in repr(logs)


async def test_news_of_an_incident_naming_no_monitor_reaches_subscribers_under_its_title(
    engine: AsyncEngine,
    smtp_servers: Callable[[str], SmtpServer],
    make_worker: Callable[..., DeliveryWorker],
) -> None:
    """What the written-updates work calls for a declared incident (it names no monitor)."""
    server, clock = smtp_servers("plain"), Clock()
    loaded = config(server)
    await reconciled(engine, loaded)
    await add_subscriber(engine)
    async with engine.begin() as connection:
        news = {"title": "Payments delayed", "started_at": T0.isoformat(), "cause": None}
        queued = await subscribers.enqueue_news(
            connection,
            incident_id=77,
            monitor_id=None,
            event=EventType.INCIDENT_OPENED,
            at=T0,
            now=T0,
            payload=news,
        )
    assert queued
    await drain(make_worker(loaded, clock))
    [message] = to_reader(server)
    assert message["Subject"] == "[Acme status] Payments delayed: incident"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_a_written_update_on_a_public_incident_reaches_subscribers_in_its_own_words(
    engine: AsyncEngine,
    smtp_servers: Callable[[str], SmtpServer],
    make_worker: Callable[..., DeliveryWorker],
) -> None:
    server, clock = smtp_servers("plain"), Clock()
    loaded = config(server)
    await reconciled(engine, loaded)
    await add_subscriber(engine)
    incident = await open_incident(engine, loaded, "api")
    assert incident.id is not None
    worker = make_worker(loaded, clock)
    await drain(worker)
    async with engine.begin() as connection:
        await effects.add_update(
            connection,
            loaded.config,
            incident.id,
            status="identified",
            body="A bad deploy; rolling back.",
            now=clock.advance(minutes=3),
        )
    await drain(worker)
    [_, update] = to_reader(server)
    assert update["Subject"] == "[Acme status] Public API: update"
    lines = text_of(update).splitlines()
    assert lines[:2] == ["Update on Public API (Identified):", "A bad deploy; rolling back."]
    assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_the_json_feed_has_the_atom_feeds_entries_in_the_same_order(
    engine: AsyncEngine, client_for: Callable[..., httpx.AsyncClient]
) -> None:
    loaded = config(None)
    await reconciled(engine, loaded)
    incident = await open_incident(engine, loaded, "api")
    assert incident.id is not None
    async with engine.begin() as connection:
        await effects.add_update(
            connection,
            loaded.config,
            incident.id,
            status="identified",
            body="A bad deploy; rolling back.",
            now=T0 + timedelta(minutes=2),
        )
    client = client_for(loaded, Clock(T0 + timedelta(minutes=3)))
    atom = (await client.get("/feed.atom")).text
    items = (await client.get("/feed.json")).json()["items"]
    assert [i["id"] for i in items] == re.findall(r"<id>(tag:[^<]+)</id>", atom)
    assert len(items) == 2
    assert items[0]["content_text"] == "A bad deploy; rolling back."


async def test_the_limit_is_shared_by_every_worker_and_instance(
    engine: AsyncEngine, client_for: Callable[..., httpx.AsyncClient]
) -> None:
    loaded = config(None)
    clock = Clock()
    # Two processes (workers, or instances) on one database; one client alternates between them.
    first, second = client_for(loaded, clock), client_for(loaded, clock)
    for n in range(5):
        answer = await (first, second)[n % 2].post(
            "/subscribe", data={"email": f"w{n}@example.com"}
        )
        assert answer.status_code == 200
    refused = await second.post("/subscribe", data={"email": "w6@example.com"})
    assert refused.status_code == 429
    assert len(await subscribed(engine)) == 5
    other = client_for(loaded, clock, peer="198.51.100.9")  # another client is not held back
    assert (await other.post("/subscribe", data={"email": "x@example.com"})).status_code == 200

    clock.now += timedelta(hours=1, seconds=1)  # an hour later it may ask again
    assert (await first.post("/subscribe", data={"email": "w7@example.com"})).status_code == 200


async def test_client_addresses_are_not_stored(
    engine: AsyncEngine, client_for: Callable[..., httpx.AsyncClient]
) -> None:
    client = client_for(config(None), Clock())
    await client.post("/subscribe", data={"email": "a@example.com"})
    async with engine.connect() as connection:
        stored = [r.client for r in await connection.execute(select(SUBSCRIBE_REQUESTS))]
    assert len(stored) == 1
    assert "203.0.113.7" not in stored[0]
