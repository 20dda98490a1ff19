"""What messages say: subjects per event, the facts a person needs at 3 a.m., escaping, user
templates, links, and no secret anywhere."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from tests.notify_receivers import SECRET_KEY, T0, notify_config
from upwatch.config.loader import LoadedConfig
from upwatch.engine.model import EventType, Incident, Resolution
from upwatch.engine.payload import incident_data
from upwatch.notify.channels.slack import payload as slack_payload
from upwatch.notify.channels.webhook import document
from upwatch.notify.compose import compose, notify_test_message
from upwatch.notify.links import check_ack_token
from upwatch.notify.message import Failure, Message, MonitorInfo, message_from_payload
from upwatch.notify.render import Renderer
from upwatch.notify.text import duration
from upwatch.store.deliveries import Delivery

INCIDENT = Incident(
    "api",
    started_at=T0 - timedelta(minutes=2),
    confirmed_at=T0,
    cause="expected status 200,\ngot 503",
    id=7,
    policy_name="critical",
)
RESOLVED = replace(
    INCIDENT, resolved_at=T0 + timedelta(minutes=10), resolution=Resolution.RECOVERED
)
ACKED = replace(INCIDENT, acknowledged_at=T0 + timedelta(minutes=1))
ACK_URL = "https://status.acme.test/ack/7.1.sig"
PAGE = "https://status.acme.test/monitors/api"


def message(
    event: EventType,
    incident: Incident | None = INCIDENT,
    *,
    name: str = "Public API",
    at: Any = None,
    **fields: Any,
) -> Message:
    at = at or T0 + timedelta(minutes=3)
    payload: dict[str, Any]
    if incident is None:
        payload = {"monitor": {"id": "api"}, "incident": None, "cause": fields.pop("cause")}
    else:
        payload = incident_data(incident, incident.resolved_at or at, step=0, repeat=2)
    return message_from_payload(
        key=f"k:{event}",
        event=str(event),
        channel="oncall-email",
        at=at,
        payload=payload,
        monitor=MonitorInfo("api", name, "Core services"),
        told=("team-slack", "oncall-email"),
        status_page_url=PAGE,
        **fields,
    )


def failed_message() -> Message:
    failure = Failure("team-slack", "incident.opened", "HTTP 404: no_service")
    return replace(message(EventType.CHANNEL_FAILED), failure=failure)


SUBJECTS = [
    (message(EventType.INCIDENT_OPENED), "[DOWN] Public API — expected status 200, got 503"),
    (
        message(EventType.INCIDENT_ESCALATED),
        "[ESCALATED] Public API — expected status 200, got 503",
    ),
    (
        message(EventType.INCIDENT_REMINDER),
        "[REMINDER] Public API — expected status 200, got 503 (down 5m)",
    ),
    (
        message(EventType.INCIDENT_ACKNOWLEDGED, ACKED),
        "[ACKNOWLEDGED] Public API — expected status 200, got 503",
    ),
    (message(EventType.INCIDENT_RESOLVED, RESOLVED), "[RESOLVED] Public API — recovered after 12m"),
    (
        message(EventType.MONITOR_DEGRADED, None, cause="responded in 900ms, expected under 500ms"),
        "[DEGRADED] Public API — responded in 900ms, expected under 500ms",
    ),
    (
        message(EventType.CERTIFICATE_EXPIRING, None, cause="certificate expires in 6 days"),
        "[CERT] Public API — certificate expires in 6 days",
    ),
    (failed_message(), "[CHANNEL FAILED] team-slack — HTTP 404: no_service"),
]


@pytest.mark.parametrize(("msg", "subject"), SUBJECTS, ids=[s for _, s in SUBJECTS])
def test_subjects_name_the_event_the_monitor_and_the_cause_on_one_line(
    msg: Message, subject: str
) -> None:
    assert Renderer().subject(msg) == subject


def test_the_test_subject() -> None:
    loaded = notify_config({"team-slack": {"type": "slack", "webhook_url": "https://x.test/a"}})
    msg = notify_test_message("team-slack", loaded, T0)
    assert Renderer().subject(msg) == "[TEST] upwatch — test notification through team-slack"
    assert "if you can read this, the channel works" in Renderer().text(msg)


def test_a_resolution_by_pausing_says_so() -> None:
    paused = replace(RESOLVED, resolution=Resolution.PAUSED)
    msg = message(EventType.INCIDENT_RESOLVED, paused)
    assert Renderer().subject(msg) == "[RESOLVED] Public API — monitoring paused after 12m"


@pytest.mark.parametrize("render", ["text", "html"])
def test_a_down_message_answers_what_since_when_why_who_and_where(render: str) -> None:
    msg = message(EventType.INCIDENT_OPENED, ack_url=ACK_URL)
    body = getattr(Renderer(), render)(msg)
    for needed in (
        "Public API",
        "Core services",
        "expected status 200, got 503",
        "2026-11-22 07:58 UTC",  # since, in UTC
        "5m",  # how long so far
        "team-slack, oncall-email",  # who has been told
        ACK_URL,
        PAGE,
        "incident #7",
    ):
        assert needed in body, needed


def test_a_resolution_gives_the_duration_and_no_acknowledge_link() -> None:
    msg = message(EventType.INCIDENT_RESOLVED, RESOLVED)
    text = Renderer().text(msg)
    assert text.startswith("Public API is UP again after 12m down.")
    assert "Resolved:     2026-11-22 08:10 UTC" in text
    assert "Acknowledge" not in text


def test_hostile_names_and_causes_are_escaped_in_html() -> None:
    hostile = '<script>alert("x")</script>'
    incident = replace(INCIDENT, cause='got <img src=x onerror="steal()">')
    msg = message(EventType.INCIDENT_OPENED, incident, name=hostile, ack_url=ACK_URL)
    html = Renderer().html(msg)
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "onerror=&#34;steal()&#34;" in html
    text = Renderer().text(msg)
    assert hostile in text  # plain text is not markup: shown as written


def test_a_user_template_of_the_same_name_wins(tmp_path: Path) -> None:
    (tmp_path / "subject.txt").write_text("{{ tag }}! {{ monitor.name }} is on fire")
    config = tmp_path / "monitors.yaml"
    loaded = slack_config(notifications={"templates_dir": "."})
    loaded = replace(loaded, path=str(config))
    renderer = Renderer.for_config(loaded)
    msg = message(EventType.INCIDENT_OPENED)
    assert renderer.subject(msg) == "DOWN! Public API is on fire"
    assert renderer.text(msg).startswith("Public API is DOWN")  # the rest stays shipped


def test_a_broken_user_template_falls_back_to_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "subject.txt").write_text("{{ monitor.nmae }} {% if %}")
    loaded = replace(
        slack_config(notifications={"templates_dir": str(tmp_path)}),
        path=str(tmp_path / "monitors.yaml"),
    )
    with structlog.testing.capture_logs() as logs:
        subject = Renderer.for_config(loaded).subject(message(EventType.INCIDENT_OPENED))
    assert subject == "[DOWN] Public API — expected status 200, got 503"
    assert logs[0]["event"] == "notification template failed; using the shipped one"
    assert logs[0]["log_level"] == "error"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0s"),
        (59, "59s"),
        (60, "1m"),
        (720, "12m"),
        (3600, "1h"),
        (3900, "1h 5m"),
        (86400, "1d"),
        (90000, "1d 1h"),
    ],
)
def test_durations_read_at_a_glance(seconds: int, shown: str) -> None:
    assert duration(timedelta(seconds=seconds)) == shown


# ---- composing from an outbox row ------------------------------------------------------------


def delivery(event: str = "incident.opened", incident: Incident = INCIDENT) -> Delivery:
    return Delivery(
        id=1,
        key=f"incident:7:{event}:0:0:team-slack",
        event=event,
        channel="team-slack",
        monitor_id="api",
        incident_id=7,
        payload=incident_data(incident, T0, step=0),
        event_at=T0,
        created_at=T0,
        attempts=1,
        monitor_name="Old name",
        monitor_group=None,
        monitor_public=True,
    )


def slack_config(**sections: Any) -> LoadedConfig:
    return notify_config(
        {"team-slack": {"type": "slack", "webhook_url": "https://hooks.slack.test/T/B/zzz"}},
        **sections,
    )


def test_messages_carry_a_signed_ack_link_and_the_monitor_s_page() -> None:
    msg = compose(delivery(), slack_config(), ("team-slack",), SECRET_KEY)
    assert msg.monitor is not None
    assert msg.monitor.name == "Public API"  # today's name from the config, not the old one
    assert msg.status_page_url == "https://status.acme.test/monitors/api"
    assert msg.ack_url is not None
    assert msg.ack_url.startswith("https://status.acme.test/ack/")
    checked = check_ack_token(SECRET_KEY, msg.ack_url.rsplit("/", 1)[1], T0)
    assert checked.incident_id == 7
    assert checked.expires_at == T0 + timedelta(days=7)
    # Retries carry the same link.
    assert compose(delivery(), slack_config(), (), SECRET_KEY).ack_url == msg.ack_url


def test_no_ack_link_without_a_secret_key_or_a_public_url() -> None:
    assert compose(delivery(), slack_config(), (), None).ack_url is None
    no_url = slack_config(status_page={"title": "Status"})
    msg = compose(delivery(), no_url, (), SECRET_KEY)
    assert msg.ack_url is None
    assert msg.status_page_url is None


@pytest.mark.parametrize("event", ["incident.acknowledged", "incident.resolved"])
def test_no_ack_link_once_there_is_nothing_to_acknowledge(event: str) -> None:
    incident = ACKED if event == "incident.acknowledged" else RESOLVED
    assert compose(delivery(event, incident), slack_config(), (), SECRET_KEY).ack_url is None


def test_a_private_monitor_links_to_the_status_page_not_its_own_page() -> None:
    monitors = [{"id": "api", "name": "Public API", "url": "https://a.test/", "public": False}]
    msg = compose(delivery(), slack_config(monitors=monitors), (), SECRET_KEY)
    assert msg.status_page_url == "https://status.acme.test/"


def test_no_secret_appears_in_any_rendered_message() -> None:
    secrets = ["hooks.slack.test/T/B/zzz", SECRET_KEY]
    loaded = slack_config()
    renderer = Renderer()
    for msg, _ in SUBJECTS:
        composed = compose(delivery(), loaded, ("team-slack",), SECRET_KEY)
        for each in (msg, composed):
            parts = [
                renderer.subject(each),
                renderer.text(each),
                renderer.html(each),
                str(document(each)),
            ]
            ctx: Any = type("Ctx", (), {"renderer": renderer})()
            parts.append(str(slack_payload(each, ctx)))
            for secret in secrets:
                assert not any(secret in part for part in parts)


def flap_message(event: EventType, state: str) -> Message:
    from upwatch.engine.payload import flapping_data

    data = flapping_data(
        "api",
        "warning",
        since=T0,
        changes=4,
        within=timedelta(minutes=30),
        state=state,
        cause=None,
    )
    return message_from_payload(
        key=f"monitor:api:{T0.isoformat()}:{event}:-:0:oncall-email",
        event=str(event),
        channel="oncall-email",
        at=T0 + timedelta(minutes=40),
        payload=data,
        monitor=MonitorInfo("api", "Public API", "Core services"),
    )


def test_flapping_and_settled_messages_say_what_happened_with_the_severity() -> None:
    flapping = flap_message(EventType.MONITOR_FLAPPING, "down")
    settled = flap_message(EventType.MONITOR_SETTLED, "up")

    assert Renderer().subject(flapping) == "[FLAPPING] Public API — FLAPPING"
    assert Renderer().subject(settled) == "[SETTLED] Public API — settled UP"
    text = Renderer().text(flapping)
    assert "Public API is FLAPPING: 4 changes within 30m" in text
    assert "Severity" in text
    assert "warning" in text
    assert "settled UP after flapping since 2026-11-22" in Renderer().text(settled)
    assert document(settled)["data"]["flapping"]["state"] == "up"
    assert document(settled)["data"]["monitor"]["severity"] == "warning"
