"""The delivery worker on real databases (SQLite and PostgreSQL) with real receivers on loopback,
driven by an injected clock: nothing sleeps except real network waits."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests import notify_receivers as nr
from tests.notify_receivers import (
    SMTP_PASSWORD,
    T0,
    WEBHOOK_SECRET,
    Clock,
    HttpReceiver,
    Received,
    Reply,
    always,
    attempts,
    notice,
    notify_config,
    outbox_rows,
    seed_incident,
    seed_notices,
    slack_like,
)
from upwatch.engine.model import EventType, Notice
from upwatch.engine.payload import incident_data
from upwatch.notify.worker import DeliveryWorker
from upwatch.store import deliveries
from upwatch.store.database import create_engine, database_url
from upwatch.store.tables import OUTBOX

http_receivers = nr.http_receivers
make_worker = nr.make_worker
smtp_servers = nr.smtp_servers
stalling_port = nr.stalling_port

MakeReceiver = Callable[..., HttpReceiver]
MakeWorker = Callable[..., DeliveryWorker]


def slack(receiver: HttpReceiver) -> dict[str, Any]:
    return {"type": "slack", "webhook_url": receiver.url("/services/T0/B0/xoxSECRET")}


def hook(receiver: HttpReceiver, **extra: Any) -> dict[str, Any]:
    return {"type": "webhook", "url": receiver.url("/upwatch"), **extra}


async def pending_next(engine: AsyncEngine) -> list[Any]:
    rows = await outbox_rows(engine)
    return [r for r in rows if r.delivered_at is None and r.failed_at is None]


async def drive(worker: DeliveryWorker, clock: Clock, engine: AsyncEngine, *, until: Any) -> int:
    """Run the worker pass after pass, moving the clock to the next due attempt, until nothing
    is pending or the clock reaches `until`. Returns the number of passes."""
    passes = 0
    while clock.now <= until:
        await worker.run_once()
        passes += 1
        pending = await pending_next(engine)
        if not pending:
            return passes
        # The next time something becomes due (a row due now but waiting for an earlier one
        # becomes sendable when that one is).
        later = [r.next_attempt_at for r in pending if r.next_attempt_at > clock.now]
        clock.now = min(later, default=clock.now + timedelta(seconds=1))
    return passes


def webhook_ids(receiver: HttpReceiver) -> list[str]:
    return [r.headers["webhook-id"] for r in receiver.requests]


# ---- retries, exactly once ------------------------------------------------------------------


async def test_a_receiver_failing_for_ten_minutes_gets_each_message_exactly_once(
    engine: AsyncEngine, http_receivers: MakeReceiver, make_worker: MakeWorker
) -> None:
    clock = Clock()
    recovered_at = T0 + timedelta(minutes=10)
    answered: list[tuple[str, bool]] = []

    def flaky(ok: Reply) -> Callable[[Received], Reply]:
        def reply(request: Received) -> Reply:
            up = clock.now >= recovered_at
            answered.append((request.path, up))
            return ok if up else Reply(503, b"busy")

        return reply

    slack_receiver = http_receivers(flaky(Reply(200, b"ok")))
    hook_receiver = http_receivers(flaky(Reply(204, b"")))
    loaded = notify_config({"team-slack": slack(slack_receiver), "pager": hook(hook_receiver)})
    await seed_incident(engine, loaded)
    worker = make_worker(loaded, clock)

    await drive(worker, clock, engine, until=T0 + timedelta(hours=1))

    rows = await outbox_rows(engine)
    assert sorted((r.channel, r.delivered_at is not None) for r in rows) == [
        ("pager", True),
        ("team-slack", True),
    ]
    for receiver in (slack_receiver, hook_receiver):
        path = receiver.requests[0].path
        assert [up for p, up in answered if p == path].count(True) == 1  # exactly once
        assert 4 <= len(receiver.requests) <= 10  # ~10 s doubling with jitter over 10 minutes
    assert worker.delivered == Counter({"team-slack": 1, "pager": 1})
    assert all(r.delivered_at >= recovered_at for r in rows)
    recorded = await attempts(engine)
    assert len(recorded) == len(answered)
    assert sum(1 for a in recorded if a.error is None) == 2  # one success per message
    # Every retry of one message carries the same webhook id.
    assert len(set(webhook_ids(hook_receiver))) == 1


async def test_a_delivered_message_is_never_sent_again(
    engine: AsyncEngine, http_receivers: MakeReceiver, make_worker: MakeWorker
) -> None:
    clock = Clock()
    receiver = http_receivers(always(Reply(200, b"ok")))
    loaded = notify_config({"pager": hook(receiver)})
    await seed_incident(engine, loaded)
    worker = make_worker(loaded, clock)

    assert await worker.run_once() == 1
    for hours in (1, 25, 24 * 8):
        clock.now = T0 + timedelta(hours=hours)
        assert await worker.run_once() == 0
    assert len(receiver.requests) == 1
    [row] = await outbox_rows(engine)
    assert row.attempts == 1
    assert row.claimed_until is None


async def test_a_claim_whose_worker_died_is_retried_after_the_lease(
    engine: AsyncEngine, http_receivers: MakeReceiver, make_worker: MakeWorker
) -> None:
    clock = Clock()
    receiver = http_receivers()
    loaded = notify_config({"pager": hook(receiver)})
    await seed_incident(engine, loaded)
    [row] = await outbox_rows(engine)
    async with engine.begin() as connection:  # a worker claims, then is killed mid-send
        won = await deliveries.claim(
            connection, row.id, holder="dead", now=T0, until=T0 + timedelta(seconds=60)
        )
    assert won
    worker = make_worker(loaded, clock)

    clock.now = T0 + timedelta(seconds=30)
    assert await worker.run_once() == 0  # the lease still holds
    assert receiver.requests == []
    clock.now = T0 + timedelta(seconds=61)
    assert await worker.run_once() == 1
    assert len(receiver.requests) == 1
    [row] = await outbox_rows(engine)
    assert row.delivered_at == clock.now
    assert row.attempts == 2  # the dead worker's attempt counts: it may have been sent


async def test_two_workers_on_one_database_never_send_a_message_twice(
    engine: AsyncEngine, db_url: str, http_receivers: MakeReceiver, make_worker: MakeWorker
) -> None:
    clock = Clock()
    receiver = http_receivers()
    loaded = notify_config({"pager": hook(receiver), "backup": hook(receiver)})
    notices = tuple(
        notice(EventType.MONITOR_DEGRADED, channel, T0 + timedelta(days=day), cause="slow")
        for day in range(8)
        for channel in ("pager", "backup")
    )
    await seed_incident(engine, loaded)
    await seed_notices(engine, notices, T0)
    other_engine = create_engine(database_url({"DATABASE_URL": db_url}))
    try:
        first = make_worker(loaded, clock, instance="one")
        second = DeliveryWorker(
            other_engine, lambda: loaded, secret_key=None, instance="two", clock=clock
        )
        for _ in range(3):
            await asyncio.gather(first.run_once(), second.run_once())
        await second.aclose()
    finally:
        await other_engine.dispose()

    ids = webhook_ids(receiver)
    assert len(ids) == len(notices) + 2
    assert len(set(ids)) == len(ids), "a message was sent twice"
    assert sum(first.delivered.values()) + sum(second.delivered.values()) == len(ids)
    assert all(r.delivered_at is not None for r in await outbox_rows(engine))


async def test_messages_about_one_incident_reach_a_channel_in_order(
    engine: AsyncEngine, http_receivers: MakeReceiver, make_worker: MakeWorker
) -> None:
    clock = Clock()
    recovered_at = T0 + timedelta(minutes=10)
    receiver = http_receivers(lambda r: Reply(503) if clock.now < recovered_at else Reply(200))
    loaded = notify_config({"pager": hook(receiver)})
    incident = await seed_incident(engine, loaded)
    worker = make_worker(loaded, clock)
    await worker.run_once()  # the "down" message fails once
    clock.now = T0 + timedelta(minutes=3)
    acknowledged = Notice(
        EventType.INCIDENT_ACKNOWLEDGED,
        "pager",
        "api",
        at=clock.now,
        incident_id=incident.id,
        data=incident_data(replace(incident, acknowledged_at=clock.now), clock.now),
    )
    await seed_notices(engine, (acknowledged,), clock.now)

    await drive(worker, clock, engine, until=T0 + timedelta(hours=1))

    events = [r.headers["x-upwatch-event"] for r in receiver.requests]
    assert events[-2:] == ["incident.opened", "incident.acknowledged"]
    assert events.count("incident.acknowledged") == 1  # it waited for the earlier message
    assert all(r.delivered_at is not None for r in await outbox_rows(engine))


# ---- giving up, permanent failures ------------------------------------------------------------


async def test_gives_up_after_24_hours_and_tells_the_other_channels(
    engine: AsyncEngine, http_receivers: MakeReceiver, make_worker: MakeWorker
) -> None:
    clock = Clock()
    broken = http_receivers(always(Reply(502, b"bad gateway")))
    fine = http_receivers()
    loaded = notify_config({"pager": hook(broken), "team-slack": slack(fine)})
    await seed_incident(engine, loaded)
    worker = make_worker(loaded, clock)

    await drive(worker, clock, engine, until=T0 + timedelta(hours=30))

    rows = {r.channel: r for r in await outbox_rows(engine)}
    failed = rows["pager"]
    assert failed.failed_at is not None
    assert failed.failed_at <= failed.created_at + timedelta(hours=24)
    assert "gave up" in failed.last_error
    assert "HTTP 502" in failed.last_error
    # Backoff doubles up to 30 min: about 55 attempts in 24 h, not thousands.
    assert 40 <= len(broken.requests) <= 70
    assert worker.gave_up == Counter({"pager": 1})
    told = [r.json() for r in fine.requests]
    assert [t["blocks"][0]["text"]["text"] for t in told][-1].startswith("[CHANNEL FAILED] pager")


async def test_a_permanent_4xx_fails_at_once_and_tells_the_incident_s_other_channels(
    engine: AsyncEngine, http_receivers: MakeReceiver, make_worker: MakeWorker
) -> None:
    clock = Clock()
    revoked = http_receivers(slack_like("no_service"))
    pager = http_receivers(always(Reply(202, b"")))
    loaded = notify_config({"team-slack": slack(revoked), "pager": hook(pager)})
    incident = await seed_incident(engine, loaded)
    worker = make_worker(loaded, clock)

    await worker.run_once()
    await worker.run_once()  # the channel.failed message enqueued by the first pass

    assert len(revoked.requests) == 1
    rows = await outbox_rows(engine)
    slack_row = next(r for r in rows if r.channel == "team-slack")
    assert slack_row.failed_at == T0
    assert slack_row.last_error == "HTTP 404: no_service"
    assert worker.failed_permanently == Counter({"team-slack": 1})
    failed_rows = [r for r in rows if r.event == "channel.failed"]
    assert [(r.channel, r.incident_id) for r in failed_rows] == [("pager", incident.id)]
    assert str(slack_row.id) in failed_rows[0].key
    announcement = pager.requests[-1].json()
    assert announcement["type"] == "channel.failed"
    assert announcement["data"]["failure"] == {
        "channel": "team-slack",
        "event": "incident.opened",
        "error": "HTTP 404: no_service",
    }
    assert announcement["data"]["incident"]["id"] == incident.id
    # Further passes send nothing new.
    clock.now += timedelta(hours=1)
    assert await worker.run_once() == 0


@pytest.mark.parametrize("mode", ["invalid_blocks", "invalid_token"])
async def test_slack_refusals_are_permanent(
    engine: AsyncEngine, http_receivers: MakeReceiver, make_worker: MakeWorker, mode: str
) -> None:
    clock = Clock()
    receiver = http_receivers(slack_like(mode))
    loaded = notify_config({"team-slack": slack(receiver)})
    await seed_incident(engine, loaded)
    worker = make_worker(loaded, clock)
    await worker.run_once()
    [row] = await outbox_rows(engine)
    assert row.failed_at is not None
    assert mode in row.last_error


async def test_a_failed_channel_failed_message_does_not_cascade(
    engine: AsyncEngine, http_receivers: MakeReceiver, make_worker: MakeWorker
) -> None:
    clock = Clock()
    one, two = http_receivers(always(Reply(410, b"gone"))), http_receivers(always(Reply(401)))
    loaded = notify_config({"one": hook(one), "two": hook(two)})
    await seed_incident(engine, loaded)
    worker = make_worker(loaded, clock)
    for _ in range(4):
        await worker.run_once()
        clock.advance(minutes=5)
    rows = await outbox_rows(engine)
    assert sorted((r.event, r.channel) for r in rows) == [
        ("channel.failed", "one"),
        ("channel.failed", "two"),
        ("incident.opened", "one"),
        ("incident.opened", "two"),
    ]
    assert all(r.failed_at is not None for r in rows)


async def test_a_failed_monitor_notice_is_announced_to_the_policy_s_first_step(
    engine: AsyncEngine, http_receivers: MakeReceiver, make_worker: MakeWorker
) -> None:
    clock = Clock()
    broken, fine = http_receivers(slack_like("no_service")), http_receivers()
    loaded = notify_config({"team-slack": slack(broken), "pager": hook(fine)})
    await seed_incident(engine, loaded)  # creates the monitor row
    async with engine.begin() as connection:
        await connection.execute(update(OUTBOX).values(delivered_at=T0))
    degraded = notice(EventType.MONITOR_DEGRADED, "team-slack", T0, cause="responded in 900ms")
    await seed_notices(engine, (degraded,), T0)
    worker = make_worker(loaded, clock)
    await worker.run_once()
    await worker.run_once()
    [sent] = [r.json() for r in fine.requests]
    assert sent["type"] == "channel.failed"
    assert sent["data"]["incident"] is None
    assert sent["data"]["monitor"]["name"] == "Public API"


async def test_a_removed_channel_fails_permanently_with_a_clear_error(
    engine: AsyncEngine, http_receivers: MakeReceiver, make_worker: MakeWorker
) -> None:
    clock = Clock()
    receiver = http_receivers()
    before = notify_config({"old": hook(receiver), "pager": hook(receiver)})
    await seed_incident(engine, before)
    after = notify_config({"pager": hook(receiver)})
    worker = make_worker(after, clock)
    await worker.run_once()
    await worker.run_once()
    rows = {r.channel: r for r in await outbox_rows(engine)}
    assert rows["old"].failed_at is not None
    assert "'old' is no longer in the config" in rows["old"].last_error
    assert rows["pager"].delivered_at is not None
    assert len(rows) == 2  # no channel.failed for a channel the team removed on purpose


# ---- Retry-After, timeouts --------------------------------------------------------------------


async def test_slack_429_retry_after_is_honoured(
    engine: AsyncEngine, http_receivers: MakeReceiver, make_worker: MakeWorker
) -> None:
    clock = Clock()
    answers = iter(["rate_limited", "ok"])
    receiver = http_receivers(slack_like(lambda: next(answers), retry_after="120"))
    loaded = notify_config({"team-slack": slack(receiver)})
    await seed_incident(engine, loaded)
    worker = make_worker(loaded, clock)

    await worker.run_once()
    [row] = await outbox_rows(engine)
    assert row.next_attempt_at == T0 + timedelta(seconds=120)
    assert row.last_error == "HTTP 429: rate_limited"
    clock.now = T0 + timedelta(seconds=119)
    assert await worker.run_once() == 0
    clock.now = T0 + timedelta(seconds=120)
    assert await worker.run_once() == 1
    [row] = await outbox_rows(engine)
    assert row.delivered_at is not None
    assert [a.status_code for a in await attempts(engine)] == [429, 200]


async def test_a_stalled_smtp_server_does_not_delay_the_other_channels(
    engine: AsyncEngine,
    http_receivers: MakeReceiver,
    make_worker: MakeWorker,
    stalling_port: int,
) -> None:
    clock = Clock()
    receiver = http_receivers()
    email = {
        "type": "email",
        "smtp_url": f"smtp://127.0.0.1:{stalling_port}",
        "from": "upwatch@acme.test",
        "to": ["oncall@acme.test"],
    }
    loaded = notify_config({"oncall-email": email, "pager": hook(receiver)})
    await seed_incident(engine, loaded)
    worker = make_worker(loaded, clock, send_timeout=1.0)

    started = time.monotonic()
    await worker.run_once()
    took = time.monotonic() - started

    assert took >= 1.0  # the stalled send was given its full timeout...
    assert receiver.requests[0].at - started < 0.9  # ...while the webhook went out at once
    rows = {r.channel: r for r in await outbox_rows(engine)}
    assert rows["pager"].delivered_at is not None
    assert rows["oncall-email"].delivered_at is None
    assert rows["oncall-email"].last_error == "no answer within 1s"
    assert rows["oncall-email"].next_attempt_at > T0
    assert rows["oncall-email"].claimed_until is None


# ---- secrets ------------------------------------------------------------------------------------


def _echo_everything(request: Received) -> Reply:
    # A hostile or chatty receiver quoting our request back, credentials included.
    said = f"denied {request.path} {request.headers.get('authorization', '')}"
    return Reply(503, said.encode())


async def test_no_secret_reaches_an_attempt_error_or_a_log_line(
    engine: AsyncEngine, http_receivers: MakeReceiver, make_worker: MakeWorker, closed_port: int
) -> None:
    clock = Clock()
    echo = http_receivers(_echo_everything)
    api_key = "re_live_api_key_ABCDEF123456"
    loaded = notify_config(
        {
            "team-slack": slack(echo),
            "pager": hook(
                echo, secret=WEBHOOK_SECRET, headers={"Authorization": "Bearer tok-XYZ-987654"}
            ),
            "mail-api": {
                "type": "email",
                "api": {"provider": "resend", "api_key": api_key, "api_base": echo.url()},
                "from": "upwatch@acme.test",
                "to": ["team@acme.test"],
            },
            "smtp": {
                "type": "email",
                "smtp_url": f"smtp://alerts:{SMTP_PASSWORD}@127.0.0.1:{closed_port}",
                "from": "upwatch@acme.test",
                "to": ["oncall@acme.test"],
            },
        }
    )
    await seed_incident(engine, loaded)
    worker = make_worker(loaded, clock)
    with structlog.testing.capture_logs() as logs:
        await worker.run_once()

    secrets = ["xoxSECRET", "tok-XYZ-987654", api_key, SMTP_PASSWORD, WEBHOOK_SECRET]
    errors = [a.error or "" for a in await attempts(engine)]
    errors += [r.last_error or "" for r in await outbox_rows(engine)]
    assert len(errors) == 8
    assert all(e for e in errors)
    text = "\n".join(errors) + "\n".join(str(event) for event in logs)
    for secret in secrets:
        assert secret not in text
    assert "denied" in text  # the receiver's answer is still there to read, redacted


# ---- the running worker ---------------------------------------------------------------------


async def wait_until(predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


async def test_the_running_worker_polls_and_delivers_on_its_own(
    engine: AsyncEngine, http_receivers: MakeReceiver, make_worker: MakeWorker
) -> None:
    receiver = http_receivers()
    loaded = notify_config({"pager": hook(receiver)})
    worker = make_worker(loaded, Clock(), poll_every=0.05)
    with structlog.testing.capture_logs() as logs:
        await worker.start()
        await seed_incident(engine, loaded)  # enqueued while the worker runs
        await wait_until(lambda: worker.delivered["pager"] == 1)
        await worker.stop()
    assert len(receiver.requests) == 1
    assert not any(entry["log_level"] == "warning" for entry in logs)


async def test_a_worker_stopped_mid_send_leaves_the_message_to_its_lease(
    engine: AsyncEngine, http_receivers: MakeReceiver, make_worker: MakeWorker
) -> None:
    hung = http_receivers(always(Reply(stall=True)))
    loaded = notify_config({"pager": hook(hung)})
    await seed_incident(engine, loaded)
    clock = Clock()
    worker = make_worker(loaded, clock, poll_every=0.05, send_timeout=30.0)
    await worker.start()
    await wait_until(lambda: len(hung.requests) == 1)
    started = time.monotonic()
    await worker.stop(grace=0.1)
    assert time.monotonic() - started < 2.0
    [row] = await outbox_rows(engine)
    assert row.delivered_at is None
    assert row.claimed_until == T0 + timedelta(seconds=60)

    hung.reply = always(Reply(200))
    clock.now = T0 + timedelta(seconds=61)
    successor = make_worker(loaded, clock)
    assert await successor.run_once() == 1
    [row] = await outbox_rows(engine)
    assert row.delivered_at is not None
    assert len({r.headers["webhook-id"] for r in hung.requests}) == 1


async def test_a_worker_without_a_secret_key_warns_that_acknowledging_is_off(
    engine: AsyncEngine, make_worker: MakeWorker, http_receivers: MakeReceiver
) -> None:
    loaded = notify_config({"pager": hook(http_receivers())})
    worker = make_worker(loaded, Clock(), secret_key=None)
    with structlog.testing.capture_logs() as logs:
        await worker.start()
        await worker.stop()
    warnings = [e["event"] for e in logs if e["log_level"] == "warning"]
    assert len(warnings) == 1
    assert "acknowledging is off" in warnings[0]


async def test_a_malformed_row_fails_instead_of_coming_back_forever(
    engine: AsyncEngine, http_receivers: MakeReceiver, make_worker: MakeWorker
) -> None:
    receiver = http_receivers()
    loaded = notify_config({"pager": hook(receiver)})
    await seed_incident(engine, loaded)
    async with engine.begin() as connection:
        await connection.execute(update(OUTBOX).values(payload={"incident": {"id": 1}}))
    worker = make_worker(loaded, Clock())
    await worker.run_once()
    [row] = await outbox_rows(engine)
    assert row.failed_at is not None
    assert row.last_error == "the stored message is malformed (KeyError)"
    assert receiver.requests == []
