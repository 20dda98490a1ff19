"""`incident.updated`: a written update as every template and the webhook render it, for a
monitor's incident and for a declared incident naming no monitor."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from upwatch.engine.model import EventType
from upwatch.engine.payload import update_data
from upwatch.notify.channels.pagerduty import alert
from upwatch.notify.channels.webhook import document
from upwatch.notify.message import Message, MonitorInfo, message_from_payload
from upwatch.notify.render import Renderer

AT = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)


def updated(monitor: MonitorInfo | None, title: str, declared: bool) -> Message:
    incident: dict[str, Any] = {
        "id": 7,
        "started_at": "2026-11-22T08:00:00Z",
        "confirmed_at": "2026-11-22T08:00:00Z",
        "resolved_at": None,
        "resolution": None,
        "duration_seconds": 1800,
        "acknowledged": False,
        "acknowledged_at": None,
        "step": None,
        "repeat": 0,
        "cause": title,
        "policy": None,
        "held_by": None,
        "alert_key": None,
        "title": title,
        "declared": declared,
    }
    update = {
        "id": 3,
        "at": "2026-11-22T08:30:00Z",
        "status": "identified",
        "body": "A bad\ncache node.",
        "title": title,
        "declared": declared,
    }
    data = update_data(
        monitor_id=None if monitor is None else monitor.id,
        severity="critical",
        incident=incident,
        update=update,
    )
    return message_from_payload(
        key="incident:7:update:3:incident.updated:-:0:team-slack",
        event="incident.updated",
        channel="team-slack",
        at=AT,
        payload=data,
        monitor=monitor,
    )


CASES = [
    (updated(MonitorInfo("api", "Public API"), "Public API", False), "Public API"),
    (updated(None, "Slow logins", True), "Slow logins"),
]


@pytest.mark.parametrize(("msg", "title"), CASES, ids=["monitor", "declared"])
def test_an_update_renders_in_every_template(msg: Message, title: str) -> None:
    renderer = Renderer()

    assert renderer.subject(msg) == f"[UPDATE] {title} — identified"
    text = renderer.text(msg)
    assert f"Update on {title} (identified): A bad cache node." in text
    assert "A bad cache node." in renderer.html(msg)
    assert title in renderer.slack(msg)
    assert msg.state == "IDENTIFIED"
    assert ("Incident", title) in msg.facts()


def test_the_webhook_carries_the_update_and_pagerduty_is_not_paged() -> None:
    msg, _ = CASES[1]

    body = document(msg)

    assert body["type"] == str(EventType.INCIDENT_UPDATED)
    assert body["data"]["monitor"] is None
    assert body["data"]["update"] == {
        "title": "Slow logins",
        "status": "identified",
        "body": "A bad\ncache node.",
        "declared": True,
    }
    assert alert(msg) is None
