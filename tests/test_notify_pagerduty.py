"""The `pagerduty` channel against a receiver on loopback that checks events the way PagerDuty's
Events API v2 does: one alert per incident (trigger, acknowledge, resolve under the incident's
stored alert key), reminders that post nothing, PagerDuty's answers, and the same alert across a
restart of the store and worker."""

from __future__ import annotations

import json
import signal
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests import notify_receivers as nr
from tests import test_notify_daemon as nd
from tests.notify_receivers import T0, HttpReceiver, Received, Reply, notify_config
from tests.test_notify_daemon import Started, wait_for
from upwatch.cli import main
from upwatch.config.loader import LoadedConfig
from upwatch.config.secrets import literal_secrets
from upwatch.engine.context import policy_steps
from upwatch.engine.model import EscalationProgress, EventType, Incident, Resolution
from upwatch.engine.payload import incident_data
from upwatch.notify.channels.base import SendContext
from upwatch.notify.dispatch import deliver
from upwatch.notify.message import Message, MonitorInfo, message_from_payload
from upwatch.notify.outcome import Outcome
from upwatch.notify.render import Renderer
from upwatch.notify.worker import DeliveryWorker
from upwatch.store import incident_effects as effects
from upwatch.store.database import create_engine, database_url
from upwatch.store.incidents import fresh_incident
from upwatch.store.monitors import reconcile
from upwatch.store.tables import INCIDENTS

http_receivers = nr.http_receivers
make_worker = nr.make_worker
daemon = nd.daemon

MakeReceiver = Callable[..., HttpReceiver]
ROUTING_KEY = "R0UT1NGKEYfor-upwatch-tests-0001"
ALERT_KEY = "5f0c7c2e-3b1e-4f4e-9a57-5d9d7e0c1a11"
ACK_URL = "https://status.acme.test/ack/42.1797000000.c2lnbmF0dXJl"
PAGE_URL = "https://status.acme.test/monitors/api"
INCIDENT = Incident(
    "api",
    started_at=T0 - timedelta(minutes=2),
    confirmed_at=T0,
    cause="expected status 200, got 503",
    id=42,
    policy_name="critical",
    alert_key=ALERT_KEY,
)


# ---- a receiver that judges events as PagerDuty does -------------------------------------------


def pagerduty_problem(event: Any) -> str | None:
    """What PagerDuty would reject in an event (None: accepted). The rules of
    https://developer.pagerduty.com/docs/events-api-v2/trigger-events/"""
    if not isinstance(event.get("routing_key"), str) or len(event["routing_key"]) == 0:
        return "'routing_key' is missing"
    if event.get("event_action") not in ("trigger", "acknowledge", "resolve"):
        return "'event_action' is invalid"
    if len(event.get("dedup_key", "")) > 255:
        return "'dedup_key' is too long"
    if event["event_action"] != "trigger":
        return None if event.get("dedup_key") else "'dedup_key' is required"
    payload = event.get("payload") or {}
    if not payload.get("summary") or len(payload["summary"]) > 1024:
        return "'payload.summary' is missing or too long"
    if not payload.get("source"):
        return "'payload.source' is missing"
    if payload.get("severity") not in ("critical", "error", "warning", "info"):
        return "'payload.severity' is invalid"
    return None


def pagerduty_like(mode: Callable[[], str] | str = "ok") -> Callable[[Received], Reply]:
    """`ok` (202), `invalid` (400), `throttled` (429 with Retry-After), `down` (502); an invalid
    event gets 400 whatever the mode, and its error echoes the routing key (nothing may repeat
    it)."""

    def reply(request: Received) -> Reply:
        event = request.json()
        problem = pagerduty_problem(event)
        if request.path != "/v2/enqueue":
            return Reply(404, b'{"status":"not found"}')
        current = mode() if callable(mode) else mode
        if problem is None and current == "invalid":
            problem = "'payload' is invalid"
        if problem is not None:
            errors = [problem, f"routing key {event.get('routing_key')}"]
            body = {"status": "invalid event", "message": "Event object is invalid"}
            return Reply(400, json.dumps({**body, "errors": errors}).encode())
        if current == "throttled":
            return Reply(429, b"", {"Retry-After": "23"})
        if current == "down":
            return Reply(502, b"Bad Gateway")
        answer = {"status": "success", "message": "Event processed"}
        return Reply(202, json.dumps({**answer, "dedup_key": event["dedup_key"]}).encode())

    return reply


def pagerduty_config(receiver: HttpReceiver, **sections: Any) -> LoadedConfig:
    channel = {"type": "pagerduty", "routing_key": ROUTING_KEY, "api_base": receiver.url()}
    return notify_config({"oncall-pager": channel}, **sections)


@pytest.fixture
async def send() -> AsyncIterator[Callable[..., Any]]:
    """`await send(message, loaded)`: one delivery, as the worker does it."""
    async with httpx.AsyncClient() as http:

        async def run(message: Message, loaded: LoadedConfig) -> Outcome:
            ctx = SendContext(http=http, renderer=Renderer(), clock=lambda: T0)
            return await deliver(message, loaded, ctx, send_timeout=5.0)

        yield run


def incident_message(
    event: EventType = EventType.INCIDENT_OPENED,
    *,
    incident: Incident = INCIDENT,
    severity: str = "critical",
    at: datetime = T0,
    repeat: int = 0,
    ack_url: str | None = ACK_URL,
) -> Message:
    payload = incident_data(replace(incident, severity=severity), at, step=0, repeat=repeat)
    return message_from_payload(
        key=f"incident:{incident.id}:{event}:0:{repeat}:oncall-pager",
        event=str(event),
        channel="oncall-pager",
        at=at,
        payload=payload,
        monitor=MonitorInfo("api", "Public API", "Core services"),
        told=("oncall-pager",),
        status_page_url=PAGE_URL,
        ack_url=ack_url,
    )


def notice_message(event: EventType, key: str, **payload: Any) -> Message:
    return message_from_payload(
        key=key,
        event=str(event),
        channel="oncall-pager",
        at=T0,
        payload={"monitor": {"id": "api", "severity": "warning"}, "incident": None, **payload},
        monitor=MonitorInfo("api", "Public API", "Core services"),
        status_page_url=PAGE_URL,
    )


# ---- the events ----------------------------------------------------------------------------------


async def test_an_opened_incident_triggers_an_alert_with_every_fact_and_both_links(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(pagerduty_like())

    outcome = await send(incident_message(), pagerduty_config(receiver))

    assert outcome.ok
    assert outcome.status_code == 202
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/v2/enqueue")
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": ALERT_KEY,
        "payload": {
            "summary": "[DOWN] Public API — expected status 200, got 503",
            "source": "Public API",
            "severity": "critical",
            "timestamp": "2026-11-22T08:00:00Z",
            "class": "incident.opened",
            "component": "api",
            "group": "Core services",
            "custom_details": {
                "Monitor": "Public API (Core services)",
                "Severity": "critical",
                "State": "DOWN",
                "Cause": "expected status 200, got 503",
                "Since": "2026-11-22 07:58 UTC",
                "Duration": "2m",
                "Told": "oncall-pager",
                "Event": "incident.opened",
            },
        },
        "client": "upwatch",
        "client_url": PAGE_URL,
        "links": [
            {"href": ACK_URL, "text": "Acknowledge in upwatch"},
            {"href": PAGE_URL, "text": "Status page"},
        ],
    }


async def test_one_incident_is_one_alert_from_trigger_to_acknowledge_to_resolve(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(pagerduty_like())
    loaded = pagerduty_config(receiver)
    acknowledged = replace(INCIDENT, acknowledged_at=T0 + timedelta(minutes=3))
    resolved = replace(acknowledged, resolved_at=T0 + timedelta(minutes=9))

    for message in (
        incident_message(EventType.INCIDENT_OPENED),
        incident_message(EventType.INCIDENT_ESCALATED),
        incident_message(EventType.INCIDENT_ACKNOWLEDGED, incident=acknowledged, ack_url=None),
        incident_message(EventType.INCIDENT_RESOLVED, incident=resolved, ack_url=None),
    ):
        assert (await send(message, loaded)).ok

    events = [r.json() for r in receiver.requests]
    assert [e["event_action"] for e in events] == ["trigger", "trigger", "acknowledge", "resolve"]
    assert {e["dedup_key"] for e in events} == {ALERT_KEY}
    # Acknowledge and resolve name the alert and nothing else.
    assert events[2] == {
        "routing_key": ROUTING_KEY,
        "event_action": "acknowledge",
        "dedup_key": ALERT_KEY,
    }
    assert events[3] == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": ALERT_KEY,
    }


async def test_a_reminder_posts_nothing_and_counts_as_delivered(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(pagerduty_like())

    outcome = await send(
        incident_message(EventType.INCIDENT_REMINDER, repeat=1), pagerduty_config(receiver)
    )

    assert outcome.ok
    assert outcome.permanent is False
    assert receiver.requests == []


@pytest.mark.parametrize("severity", ["critical", "error", "warning", "info"])
async def test_the_monitor_s_severity_is_the_alert_s(
    http_receivers: MakeReceiver, send: Any, severity: str
) -> None:
    receiver = http_receivers(pagerduty_like())

    assert (await send(incident_message(severity=severity), pagerduty_config(receiver))).ok

    assert receiver.requests[0].json()["payload"]["severity"] == severity


async def test_an_incident_from_before_alert_keys_keeps_one_key_of_its_own(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(pagerduty_like())
    loaded = pagerduty_config(receiver)
    old = replace(INCIDENT, alert_key=None)

    await send(incident_message(incident=old), loaded)
    await send(
        incident_message(EventType.INCIDENT_RESOLVED, incident=replace(old, resolved_at=T0)), loaded
    )

    keys = [r.json()["dedup_key"] for r in receiver.requests]
    assert keys == ["upwatch-incident-api-42"] * 2


async def test_an_slo_alert_is_triggered_and_resolved_under_one_key_and_reminders_post_nothing(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(pagerduty_like())
    loaded = pagerduty_config(receiver)
    figures = {
        "kind": "slo.burn_fast",
        "target": 99.9,
        "window": "30d",
        "budget_seconds": 2592.0,
        "budget_left_seconds": 1296.0,
        "budget_left_percent": 50.0,
        "burn": {"5m": 30.0, "30m": 20.0, "1h": 16.2, "6h": 3.1, "3d": 0.4},
    }
    burning = notice_message(
        EventType.SLO_BURN_FAST,
        "slo:7:slo.burn_fast:0:0:oncall-pager",
        cause="burning",
        slo=figures,
    )
    reminder = notice_message(
        EventType.SLO_BURN_FAST, "slo:7:slo.burn_fast:0:1:oncall-pager", slo=figures
    )
    cleared = notice_message(
        EventType.SLO_RESOLVED, "slo:7:slo.resolved:-:0:oncall-pager", slo=figures
    )

    for message in (burning, reminder, cleared):
        assert (await send(message, loaded)).ok

    first, last = (r.json() for r in receiver.requests)
    assert (first["event_action"], first["dedup_key"]) == ("trigger", "upwatch-slo-7")
    assert first["payload"]["severity"] == "warning"
    assert first["payload"]["custom_details"]["SLO"] == figures
    assert last == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": "upwatch-slo-7",
    }


@pytest.mark.parametrize(
    "event",
    [
        EventType.MONITOR_DEGRADED,
        EventType.CERTIFICATE_EXPIRING,
        EventType.MONITOR_FLAPPING,
        EventType.MONITOR_SETTLED,
    ],
)
async def test_a_monitor_notice_triggers_an_alert_of_its_own_the_same_on_every_retry(
    http_receivers: MakeReceiver, send: Any, event: EventType
) -> None:
    receiver = http_receivers(pagerduty_like())
    loaded = pagerduty_config(receiver)
    key = f"monitor:api:2026-11-22:{event}:-:0:oncall-pager"
    flapping = {
        "since": "2026-11-22T07:30:00Z",
        "changes": 6,
        "within_seconds": 1800,
        "state": "down",
    }
    extra = (
        {"flapping": flapping}
        if event in (EventType.MONITOR_FLAPPING, EventType.MONITOR_SETTLED)
        else {}
    )
    message = notice_message(event, key, cause="certificate expires in 6 days", **extra)

    await send(message, loaded)
    await send(message, loaded)

    first, again = (r.json() for r in receiver.requests)
    assert first == again
    assert first["event_action"] == "trigger"
    assert first["dedup_key"] == "upwatch-notice-" + message.delivery_id.removeprefix("msg_")
    assert first["dedup_key"] != ALERT_KEY
    assert first["payload"]["class"] == str(event)
    assert first["links"] == [{"href": PAGE_URL, "text": "Status page"}]


async def test_the_summary_is_cut_to_pagerduty_s_1024_characters(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(pagerduty_like())
    long_cause = replace(INCIDENT, cause="x" * 3000)

    assert (await send(incident_message(incident=long_cause), pagerduty_config(receiver))).ok

    summary = receiver.requests[0].json()["payload"]["summary"]
    assert len(summary) == 1024
    assert summary.endswith("…")


# ---- PagerDuty's answers ------------------------------------------------------------------------


async def test_a_refused_event_is_a_permanent_failure_that_never_quotes_the_routing_key(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(pagerduty_like("invalid"))

    outcome = await send(incident_message(), pagerduty_config(receiver))

    assert not outcome.ok
    assert outcome.permanent
    assert outcome.status_code == 400
    assert outcome.error is not None
    assert outcome.error.startswith("HTTP 400: ")
    assert "Event object is invalid" in outcome.error
    assert ROUTING_KEY not in outcome.error


async def test_a_severity_pagerduty_does_not_know_is_sent_as_critical(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(pagerduty_like())

    assert (await send(replace(incident_message(), severity="sev1"), pagerduty_config(receiver))).ok

    assert receiver.requests[0].json()["payload"]["severity"] == "critical"


@pytest.mark.parametrize(
    ("mode", "status", "retry_after"),
    [("throttled", 429, timedelta(seconds=23)), ("down", 502, None)],
)
async def test_throttling_and_server_errors_are_retried(
    http_receivers: MakeReceiver,
    send: Any,
    mode: str,
    status: int,
    retry_after: timedelta | None,
) -> None:
    receiver = http_receivers(pagerduty_like(mode))

    outcome = await send(incident_message(), pagerduty_config(receiver))

    assert not outcome.ok
    assert not outcome.permanent
    assert outcome.status_code == status
    assert outcome.retry_after == retry_after


def test_the_routing_key_is_a_secret_of_the_channel() -> None:
    loaded = notify_config({"oncall-pager": {"type": "pagerduty", "routing_key": ROUTING_KEY}})
    channel = loaded.config.channels["oncall-pager"]

    assert ROUTING_KEY in channel.secret_values()
    assert ROUTING_KEY in literal_secrets(loaded.config)  # shown as stars, even written literally


# ---- through the real store and worker, across a restart ----------------------------------------


async def open_incident(
    engine: AsyncEngine, loaded: LoadedConfig, at: datetime
) -> tuple[Incident, EscalationProgress]:
    """Confirm an incident and fire its first step, as the evaluator does."""
    confirmed = Incident(
        "api",
        started_at=at - timedelta(minutes=1),
        confirmed_at=at,
        cause="expected status 200, got 503",
        policy_name="critical",
        policy=policy_steps(loaded.config, "critical"),
    )
    async with engine.begin() as connection:
        await reconcile(connection, loaded.config, at)
        incident = await effects.open_incident(connection, confirmed)
        _, progress = await effects.escalate(
            connection, incident, EscalationProgress(), at, in_maintenance=False
        )
    return incident, progress


async def stored_incident(engine: AsyncEngine, incident_id: int) -> Incident:
    async with engine.connect() as connection:
        found = await fresh_incident(connection, incident_id)
    assert found is not None
    return found


async def test_one_alert_from_trigger_to_resolve_across_a_restart_of_store_and_worker(
    engine: AsyncEngine,
    db_url: str,
    http_receivers: MakeReceiver,
    make_worker: Callable[..., DeliveryWorker],
) -> None:
    clock = nr.Clock()
    receiver = http_receivers(pagerduty_like())
    loaded = pagerduty_config(receiver)
    opened, _ = await open_incident(engine, loaded, T0)
    assert opened.id is not None
    assert await make_worker(loaded, clock).run_once() == 1  # the trigger

    # A restart: another engine and worker, and the incident as the database has it.
    restarted = create_engine(database_url({"DATABASE_URL": db_url}))
    worker = DeliveryWorker(
        restarted, lambda: loaded, secret_key=nr.SECRET_KEY, instance="after", clock=clock
    )
    try:
        incident = await stored_incident(restarted, opened.id)
        clock.now = T0 + timedelta(minutes=3)
        async with restarted.begin() as connection:
            assert await effects.acknowledge(connection, incident, clock.now, "test") is not None
        assert await worker.run_once() == 1
        clock.now = T0 + timedelta(minutes=9)
        resolved = replace(incident, resolved_at=clock.now, resolution=Resolution.RECOVERED)
        async with restarted.begin() as connection:
            await effects.resolve(connection, resolved, clock.now)
        assert await worker.run_once() == 1
    finally:
        await worker.aclose()
        await restarted.dispose()

    events = [r.json() for r in receiver.requests]
    assert [e["event_action"] for e in events] == ["trigger", "acknowledge", "resolve"]
    assert {e["dedup_key"] for e in events} == {opened.alert_key}
    assert opened.alert_key == str(uuid.UUID(str(opened.alert_key)))
    assert (await stored_incident(engine, opened.id)).alert_key == opened.alert_key
    assert "/ack/" in events[0]["links"][0]["href"]


async def test_a_reminder_through_the_worker_posts_nothing_and_is_delivered(
    engine: AsyncEngine, http_receivers: MakeReceiver, make_worker: Callable[..., DeliveryWorker]
) -> None:
    clock = nr.Clock()
    receiver = http_receivers(pagerduty_like())
    step = {"after": "0s", "notify": ["oncall-pager"], "repeat_every": "1m"}
    loaded = pagerduty_config(receiver, escalations={"critical": [step]})
    incident, progress = await open_incident(engine, loaded, T0)
    worker = make_worker(loaded, clock)
    assert await worker.run_once() == 1

    clock.now = T0 + timedelta(minutes=1)
    async with engine.begin() as connection:
        await effects.escalate(connection, incident, progress, clock.now, in_maintenance=False)
    assert await worker.run_once() == 1

    assert [r.json()["event_action"] for r in receiver.requests] == ["trigger"]
    rows = await nr.outbox_rows(engine)
    assert [(r.event, r.delivered_at) for r in rows] == [
        ("incident.opened", T0),
        ("incident.reminder", clock.now),
    ]


async def test_every_incident_gets_an_alert_key_of_its_own(engine: AsyncEngine) -> None:
    loaded = notify_config({"oncall-pager": {"type": "pagerduty", "routing_key": ROUTING_KEY}})
    first, _ = await open_incident(engine, loaded, T0)
    second = await nr.seed_incident(engine, loaded, at=T0 + timedelta(hours=1))

    async with engine.connect() as connection:
        keys = list((await connection.execute(select(INCIDENTS.c.alert_key))).scalars())
    assert len(set(keys)) == 2
    assert first.alert_key in keys
    assert second.id is not None


@pytest.mark.slow
def test_the_daemon_triggers_acknowledges_and_resolves_one_alert_across_a_restart(
    daemon: Callable[[dict[str, object]], Started], http_receivers: MakeReceiver
) -> None:
    target_up = False
    target = http_receivers(lambda _request: Reply(200 if target_up else 503, b"status"))
    pagerduty = http_receivers(pagerduty_like())
    channel = {"type": "pagerduty", "routing_key": ROUTING_KEY, "api_base": pagerduty.url()}
    monitor = {
        "id": "api",
        "name": "Public API",
        "url": target.url("/health"),
        "interval": "1s",
        "timeout": "1s",
        "retry_interval": "1s",
        "failure_threshold": 1,
        "escalation": "critical",
    }
    document: dict[str, object] = {
        "version": 1,
        "status_page": {"public_url": "https://status.acme.test"},
        "channels": {"oncall-pager": channel},
        "escalations": {"critical": [{"after": "0s", "notify": ["oncall-pager"]}]},
        "monitors": [monitor],
    }

    def actions() -> list[str]:
        return [r.json()["event_action"] for r in pagerduty.requests]

    process, port, log = daemon(document)
    wait_for(lambda: "trigger" in actions(), "the trigger")
    trigger = pagerduty.requests[0].json()
    assert trigger["payload"]["summary"] == "[DOWN] Public API — expected status 2xx, got 503"
    ack_path = urlsplit(trigger["links"][0]["href"]).path
    assert httpx.post(f"http://127.0.0.1:{port}{ack_path}", timeout=10).status_code == 200
    wait_for(lambda: "acknowledge" in actions(), "the acknowledgement")
    process.send_signal(signal.SIGTERM)  # a redeploy while the alert is acknowledged
    assert process.wait(timeout=15) == 0

    target_up = True
    process, port, log = daemon(document)
    wait_for(lambda: "resolve" in actions(), "the resolution")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0

    events = [r.json() for r in pagerduty.requests]
    assert [e["event_action"] for e in events] == ["trigger", "acknowledge", "resolve"]
    [key] = {e["dedup_key"] for e in events}
    assert key == str(uuid.UUID(key))
    assert ROUTING_KEY not in log.read_text()


# ---- upwatch notify-test ------------------------------------------------------------------------


def write_config(tmp_path: Path, receiver: HttpReceiver) -> str:
    channel = {"type": "pagerduty", "routing_key": "${PD_KEY}", "api_base": receiver.url()}
    document = {
        "version": 1,
        "status_page": {"public_url": "https://status.acme.test"},
        "channels": {"oncall-pager": channel},
        "monitors": [{"id": "api", "name": "Public API", "url": "https://api.acme.test/"}],
    }
    path = tmp_path / "monitors.yaml"
    path.write_text(json.dumps(document))
    return str(path)


def test_notify_test_triggers_a_test_alert_and_exits_0(
    tmp_path: Path,
    http_receivers: MakeReceiver,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PD_KEY", ROUTING_KEY)
    receiver = http_receivers(pagerduty_like())

    assert main(["notify-test", "oncall-pager", "-c", write_config(tmp_path, receiver)]) == 0

    out = capsys.readouterr().out
    assert out.startswith("ok: test message delivered through oncall-pager (pagerduty: HTTP 202")
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/v2/enqueue")
    event = request.json()
    assert event["routing_key"] == ROUTING_KEY
    assert event["event_action"] == "trigger"
    assert event["dedup_key"].startswith("upwatch-test-")
    assert event["payload"]["summary"] == "[TEST] upwatch — test notification through oncall-pager"
    assert (event["payload"]["source"], event["payload"]["severity"]) == ("upwatch", "info")
    assert event["client"] == "upwatch"


def test_notify_test_refused_by_pagerduty_exits_1_without_the_routing_key(
    tmp_path: Path,
    http_receivers: MakeReceiver,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PD_KEY", ROUTING_KEY)
    receiver = http_receivers(pagerduty_like("invalid"))

    assert main(["notify-test", "oncall-pager", "-c", write_config(tmp_path, receiver)]) == 1

    captured = capsys.readouterr()
    assert "oncall-pager (pagerduty): not delivered" in captured.err
    assert "HTTP 400" in captured.err
    assert "refused it for good" in captured.err
    assert ROUTING_KEY not in captured.err + captured.out
