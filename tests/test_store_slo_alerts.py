"""SLO alerts through the real pipeline: opened when a burn-rate condition starts to hold, sent
through `slo_alerts.policy`, resolved when it clears, and never twice across a restart."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.page_data import client
from tests.store_helpers import (
    ESCALATIONS,
    MakeHarness,
    at,
    config,
    down,
    http,
    mark_delivered,
    outbox,
    rows,
    up,
)
from upwatch.config.loader import LoadedConfig
from upwatch.notify.compose import compose
from upwatch.notify.render import Renderer
from upwatch.runtime.settings import Settings
from upwatch.store.deliveries import load
from upwatch.store.tables import OUTBOX, SLO_ALERTS

SECRET = "slo-ack-secret"
SLO_POLICY = {"slo-burn": [{"after": "0s", "notify": ["team-slack"]}]}


def slo_config() -> LoadedConfig:
    return config(
        http("api", failure_threshold=1, severity="error", slo={"target": "99.9%", "window": "1d"}),
        escalations={**ESCALATIONS, **SLO_POLICY},
        slo_alerts={"policy": "slo-burn"},
    )


async def test_an_outage_raises_fast_burn_exhaustion_and_slow_burn_once_each_across_a_restart(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    # 99.9 % over 1 day: a budget of 86.4 s. Down from 0 s to 180 s, then up: burn over 1 h
    # passes 14.4 after 51.84 s of bad time, the budget is spent at 86.4 s, burn over 6 h passes
    # 6 after 129.6 s. Checks run every 10 s (and at once after the restart at 100 s).
    harness = await make_harness(slo_config())
    for second in range(0, 1200, 10):
        if second == 100:
            await harness.restart(at(seconds=second))  # mid-alert: a redeploy
        result = down if second < 180 else up
        await harness.feed("api", result(at(seconds=second)))
        await mark_delivered(engine, at(seconds=second))  # the worker sends what is due

    told = [(r.event, r.event_at) for r in await outbox(engine, OUTBOX.c.channel == "team-slack")]
    first = {event: when for event, when in reversed(told)}
    assert first["slo.burn_fast"] == at(seconds=60)
    assert first["slo.exhausted"] == at(seconds=90)
    assert first["slo.burn_slow"] == at(seconds=130)
    counts = Counter(event for event, _ in told)
    assert counts["slo.burn_fast"] == counts["slo.exhausted"] == counts["slo.burn_slow"] == 1
    # The fast burn clears once the last 5 minutes hold less than 4.32 s of bad time (past
    # 475.7 s: checked at 480 s), the slow burn once the last 30 minutes hold less than 10.8 s
    # (past this test's end).
    resolved = [r for r in await outbox(engine, OUTBOX.c.event == "slo.resolved")]
    assert [(r.event_at, r.payload["slo"]["kind"]) for r in resolved] == [
        (at(seconds=480), "slo.burn_fast")
    ]
    alerts = await rows(engine, SLO_ALERTS, order=SLO_ALERTS.c.id)
    assert [(a.kind, a.resolved_at) for a in alerts] == [
        ("slo.burn_fast", at(seconds=480)),
        ("slo.exhausted", None),
        ("slo.burn_slow", None),
    ]
    [fast] = await outbox(engine, OUTBOX.c.event == "slo.burn_fast")
    assert fast.payload["monitor"] == {"id": "api", "severity": "error"}
    assert fast.payload["slo"]["burn"]["1h"] > 14.4
    assert "over the last hour" in fast.payload["cause"]


async def test_without_slo_alerts_the_slo_is_shown_and_nothing_is_sent(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(
        config(http("api", failure_threshold=1, slo={"target": "99.9%", "window": "1d"}))
    )
    for second in range(0, 300, 10):
        await harness.feed("api", down(at(seconds=second)))
    assert await rows(engine, SLO_ALERTS) == []
    assert not [r for r in await outbox(engine) if r.event.startswith("slo.")]
    assert at(seconds=300) - at() == timedelta(minutes=5)


async def test_the_link_in_an_slo_alert_acknowledges_it_and_its_reminders_stop(
    engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    loaded = config(
        http("api", failure_threshold=1, slo={"target": "99.9%", "window": "1d"}),
        escalations={
            **ESCALATIONS,
            "slo-burn": [{"after": "0s", "notify": ["team-slack"], "repeat_every": "1m"}],
        },
        slo_alerts={"policy": "slo-burn"},
        status_page={"public_url": "https://status.acme.test"},
    )
    harness = await make_harness(loaded)
    for second in range(0, 130, 10):  # fast burn at 60 s, its first reminder at 120 s
        await harness.feed("api", down(at(seconds=second)))
        await mark_delivered(engine, at(seconds=second))
    [first, reminder] = await outbox(engine, OUTBOX.c.event == "slo.burn_fast")
    assert (first.repeat, reminder.repeat) == (0, 1)

    async with engine.connect() as connection:
        delivery = await load(connection, first.id)
    assert delivery is not None
    message = compose(delivery, loaded, (), SECRET)
    assert message.ack_url is not None
    assert "Acknowledge" in Renderer().text(message)
    path = urlsplit(message.ack_url).path
    settings = Settings.from_env({"UPWATCH_INSTANCE": "test", "UPWATCH_SECRET_KEY": SECRET})
    async with client(harness, settings=settings) as c:
        page = await c.get(path)
        assert page.status_code == 200
        assert "Error budget burning fast" in page.text
        assert (await c.post(path)).status_code == 200
        assert (await c.post(path)).status_code == 409  # once

    for second in range(130, 400, 10):  # still burning: no reminder after the acknowledgement
        await harness.feed("api", down(at(seconds=second)))
    assert len(await outbox(engine, OUTBOX.c.event == "slo.burn_fast")) == 2
    [alert] = [a for a in await rows(engine, SLO_ALERTS) if a.kind == "slo.burn_fast"]
    assert alert.acknowledged_at is not None
