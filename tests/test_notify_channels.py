"""Each channel against a real receiver on loopback: Slack's webhook, the three email APIs'
request formats, a Standard Webhooks consumer verifying with the `standardwebhooks` package, and
a real aiosmtpd server (plain, STARTTLS, AUTH, implicit TLS)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import trustme
from standardwebhooks import Webhook

from tests import notify_receivers as nr
from tests.notify_receivers import (
    ACK_URL,
    INCIDENT,
    PAGE_URL,
    SMTP_PASSWORD,
    T0,
    WEBHOOK_SECRET,
    HttpReceiver,
    Reply,
    SmtpServer,
    always,
    client_tls,
    notify_config,
    slack_like,
)
from upwatch.config.loader import LoadedConfig
from upwatch.engine.model import EventType, Incident, Resolution
from upwatch.notify.channels.base import SendContext
from upwatch.notify.dispatch import deliver
from upwatch.notify.message import Message, MonitorInfo, message_from_payload
from upwatch.notify.outcome import Outcome
from upwatch.notify.render import Renderer

http_receivers = nr.http_receivers
smtp_servers = nr.smtp_servers

MakeReceiver = Callable[..., HttpReceiver]


def incident_message(
    event: EventType = EventType.INCIDENT_OPENED,
    channel: str = "team-slack",
    *,
    incident: Incident = INCIDENT,
    name: str = "Public API",
    ack_url: str | None = ACK_URL,
    at: datetime = T0,
) -> Message:
    return nr.incident_message(channel, event, incident=incident, name=name, ack_url=ack_url, at=at)


@pytest.fixture
async def send() -> AsyncIterator[Callable[..., Any]]:
    """`await send(message, loaded, clock=..., **context)`: one delivery, as the worker does."""
    async with httpx.AsyncClient() as http:

        async def run(
            message: Message,
            loaded: LoadedConfig,
            clock: Callable[[], datetime] = lambda: T0,
            **options: Any,
        ) -> Outcome:
            ctx = SendContext(http=http, renderer=Renderer(), clock=clock, **options)
            return await deliver(message, loaded, ctx, send_timeout=5.0)

        yield run


# ---- Slack ---------------------------------------------------------------------------------------


def slack_config(receiver: HttpReceiver) -> LoadedConfig:
    return notify_config({"team-slack": {"type": "slack", "webhook_url": receiver.url("/T/B/x")}})


async def test_slack_gets_a_text_fallback_and_blocks_with_every_fact_and_both_buttons(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(slack_like("ok"))
    outcome = await send(incident_message(), slack_config(receiver))
    assert outcome.ok
    assert outcome.status_code == 200
    body = receiver.requests[0].json()
    assert receiver.requests[0].headers["content-type"].startswith("application/json")
    assert body["text"].startswith("*Public API is DOWN: expected status 200, got 503*")
    header, summary, facts, actions, context = body["blocks"]
    assert header == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "[DOWN] Public API — expected status 200, got 503",
            "emoji": True,
        },
    }
    assert summary["text"]["type"] == "mrkdwn"
    labels = [f["text"].split("\n")[0] for f in facts["fields"]]
    assert labels == [
        "*Monitor*",
        "*Severity*",
        "*State*",
        "*Cause*",
        "*Since*",
        "*Duration*",
        "*Told*",
    ]
    values = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in facts["fields"]}
    assert values["*Since*"] == "2026-11-22 07:58 UTC"
    assert values["*Duration*"] == "2m"
    assert values["*Told*"] == "team-slack, oncall-email"
    buttons = [(b["text"]["text"], b["url"]) for b in actions["elements"]]
    assert buttons == [("Acknowledge", ACK_URL), ("Status page", PAGE_URL)]
    assert "incident #42" in context["elements"][0]["text"]


async def test_slack_has_no_acknowledge_button_without_an_ack_link(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(slack_like("ok"))
    await send(incident_message(ack_url=None), slack_config(receiver))
    actions = [b for b in receiver.requests[0].json()["blocks"] if b["type"] == "actions"]
    assert [e["text"]["text"] for e in actions[0]["elements"]] == ["Status page"]


async def test_slack_messages_stay_within_slack_s_limits_and_escape_mrkdwn(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(slack_like("ok"))
    hostile = "<!channel> & <https://evil.test|click me> " + "x" * 400
    huge = replace(INCIDENT, cause="body was: " + "y" * 10_000)
    outcome = await send(incident_message(incident=huge, name=hostile), slack_config(receiver))
    assert outcome.ok, outcome.error  # the receiver answers 400 invalid_blocks otherwise
    body = receiver.requests[0].json()
    # Slack parses mentions and links in mrkdwn only (the header is plain text, shown as is).
    mrkdwn = [body["text"]] + [
        part["text"]
        for block in body["blocks"][1:]
        for part in [block.get("text") or {}, *block.get("fields", []), *block.get("elements", [])]
        if part.get("type") == "mrkdwn"
    ]
    assert len(mrkdwn) == 10
    assert not any("<!channel>" in text or "<https://evil" in text for text in mrkdwn)
    assert "&lt;!channel&gt; &amp; &lt;https://evil.test|click me&gt;" in body["text"]
    assert len(body["blocks"][0]["text"]["text"]) <= 150
    assert len(body["text"]) <= 3000


@pytest.mark.parametrize(
    ("mode", "status", "permanent"),
    [
        ("no_service", 404, True),
        ("invalid_token", 403, True),
        ("invalid_blocks", 400, True),
        ("rate_limited", 429, False),
        ("down", 503, False),
    ],
)
async def test_slack_answers_are_judged_like_slack_means_them(
    http_receivers: MakeReceiver, send: Any, mode: str, status: int, permanent: bool
) -> None:
    receiver = http_receivers(slack_like(mode, retry_after="17"))
    outcome = await send(incident_message(), slack_config(receiver))
    assert not outcome.ok
    assert outcome.status_code == status
    assert outcome.permanent is permanent
    assert outcome.error == f"HTTP {status}: {mode}"
    if mode == "rate_limited":
        assert outcome.retry_after == timedelta(seconds=17)


# ---- webhooks ------------------------------------------------------------------------------------


def webhook_config(receiver: HttpReceiver, **extra: Any) -> LoadedConfig:
    return notify_config({"pager": {"type": "webhook", "url": receiver.url("/hook"), **extra}})


async def test_webhooks_verify_with_the_standard_webhooks_library(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(always(Reply(204, b"")))
    loaded = webhook_config(receiver, secret=WEBHOOK_SECRET, headers={"X-Team": "sre"})
    message = incident_message(channel="pager")
    now = datetime.now(UTC)
    outcome = await send(message, loaded, clock=lambda: now)
    assert outcome.ok

    request = receiver.requests[0]
    verified = Webhook(WEBHOOK_SECRET).verify(request.body, request.headers)
    assert verified == request.json()
    assert verified["id"] == request.headers["webhook-id"]
    assert verified["type"] == "incident.opened"
    assert verified["timestamp"] == "2026-11-22T08:00:00Z"  # the event's time
    assert request.headers["webhook-timestamp"] == str(int(now.timestamp()))  # this attempt's
    assert request.headers["x-upwatch-event"] == "incident.opened"
    assert request.headers["x-team"] == "sre"
    assert verified["data"] == {
        "monitor": {
            "id": "api",
            "name": "Public API",
            "group": "Core services",
            "severity": "critical",
        },
        "incident": {
            "id": 42,
            "started_at": "2026-11-22T07:58:00Z",
            "confirmed_at": "2026-11-22T08:00:00Z",
            "resolved_at": None,
            "duration_seconds": 120,
            "acknowledged": False,
            "step": 0,
            "cause": "expected status 200, got 503",
        },
        "status_page_url": PAGE_URL,
        "ack_url": ACK_URL,
        "cause": "expected status 200, got 503",
        "cert_expires_at": None,
        "failure": None,
        "flapping": None,
        "slo": None,
        "update": None,
        "region": None,  # only region.unavailable / region.available name one
    }


async def test_a_retried_webhook_keeps_its_id_and_signs_the_new_attempt_time(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(always(Reply(500, b"oops")))
    loaded = webhook_config(receiver, secret=WEBHOOK_SECRET)
    message = incident_message(channel="pager")
    first, second = datetime.now(UTC), datetime.now(UTC) + timedelta(seconds=20)
    await send(message, loaded, clock=lambda: first)
    await send(message, loaded, clock=lambda: second)
    one, two = receiver.requests
    assert one.headers["webhook-id"] == two.headers["webhook-id"]
    assert one.body == two.body
    assert one.headers["webhook-timestamp"] != two.headers["webhook-timestamp"]
    assert one.headers["webhook-signature"] != two.headers["webhook-signature"]
    for request in (one, two):
        Webhook(WEBHOOK_SECRET).verify(request.body, request.headers)


async def test_a_webhook_without_a_secret_is_unsigned(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers()
    await send(incident_message(channel="pager"), webhook_config(receiver))
    headers = receiver.requests[0].headers
    assert "webhook-signature" not in headers
    assert headers["webhook-id"].startswith("msg_")
    assert headers["x-upwatch-event"] == "incident.opened"


async def test_a_monitor_notice_webhook_has_a_null_incident_and_the_cause(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers()
    message = message_from_payload(
        key="monitor:api:2026-11-22:certificate.expiring:-:0:pager",
        event="certificate.expiring",
        channel="pager",
        at=T0,
        payload={
            "monitor": {"id": "api"},
            "incident": None,
            "cause": "certificate expires in 6 days",
            "cert_expires_at": "2026-11-28T08:00:00Z",
        },
        monitor=MonitorInfo("api", "Public API", None),
        status_page_url=PAGE_URL,
    )
    await send(message, webhook_config(receiver))
    body = receiver.requests[0].json()
    assert body["type"] == "certificate.expiring"
    assert body["data"]["incident"] is None
    assert body["data"]["ack_url"] is None
    assert body["data"]["cause"] == "certificate expires in 6 days"
    assert body["data"]["cert_expires_at"] == "2026-11-28T08:00:00Z"


# ---- email APIs ----------------------------------------------------------------------------------

API_KEY = "key-0123456789abcdef"


def api_config(provider: str, api_base: str | None = None) -> LoadedConfig:
    api = {"provider": provider, "api_key": API_KEY}
    if api_base is not None:
        api["api_base"] = api_base
    channel = {
        "type": "email",
        "api": api,
        "from": "upwatch@acme.test",
        "to": ["oncall@acme.test", "sre@acme.test"],
    }
    return notify_config({"oncall-email": channel})


SUBJECT = "[DOWN] Public API — expected status 200, got 503"


def common_headers(body: dict[str, Any]) -> None:
    assert body["Message-ID"].startswith("<")
    assert body["Message-ID"].endswith("@acme.test>")
    assert body["X-Upwatch-Event"] == "incident.opened"


async def test_resend_gets_its_own_request_format(http_receivers: MakeReceiver, send: Any) -> None:
    receiver = http_receivers(always(Reply(200, b'{"id": "49a3999c"}')))
    outcome = await send(
        incident_message(channel="oncall-email"),
        api_config("resend", api_base=receiver.url()),
    )
    assert outcome.ok
    request = receiver.requests[0]
    assert (request.method, request.path) == ("POST", "/emails")
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    body = request.json()
    assert set(body) == {"from", "to", "subject", "html", "text", "headers"}
    assert body["from"] == "upwatch@acme.test"
    assert body["to"] == ["oncall@acme.test", "sre@acme.test"]
    assert body["subject"] == SUBJECT
    assert "Public API is DOWN" in body["text"]
    assert body["html"].startswith("<!DOCTYPE html>")
    common_headers(body["headers"])


async def test_postmark_gets_its_own_request_format(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(always(Reply(200, b'{"ErrorCode": 0, "Message": "OK"}')))
    outcome = await send(
        incident_message(channel="oncall-email"),
        api_config("postmark", api_base=receiver.url()),
    )
    assert outcome.ok
    request = receiver.requests[0]
    assert (request.method, request.path) == ("POST", "/email")
    assert request.headers["x-postmark-server-token"] == API_KEY
    body = request.json()
    assert set(body) == {
        "From",
        "To",
        "Subject",
        "HtmlBody",
        "TextBody",
        "Headers",
        "MessageStream",
    }
    assert body["To"] == "oncall@acme.test, sre@acme.test"
    assert body["Subject"] == SUBJECT
    assert body["MessageStream"] == "outbound"
    common_headers({h["Name"]: h["Value"] for h in body["Headers"]})


async def test_sendgrid_gets_its_own_request_format(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(always(Reply(202, b"")))
    outcome = await send(
        incident_message(channel="oncall-email"),
        api_config("sendgrid", api_base=receiver.url()),
    )
    assert outcome.ok
    request = receiver.requests[0]
    assert (request.method, request.path) == ("POST", "/v3/mail/send")
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    body = request.json()
    assert body["personalizations"] == [
        {"to": [{"email": "oncall@acme.test"}, {"email": "sre@acme.test"}]}
    ]
    assert body["from"] == {"email": "upwatch@acme.test"}
    assert body["subject"] == SUBJECT
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    common_headers(body["headers"])


@pytest.mark.parametrize(
    ("provider", "path"),
    [("resend", "/emails"), ("postmark", "/email"), ("sendgrid", "/v3/mail/send")],
)
@pytest.mark.parametrize("base_path", ["", "/", "/relay"])
async def test_api_base_replaces_the_providers_host_and_keeps_its_path(
    http_receivers: MakeReceiver, send: Any, provider: str, path: str, base_path: str
) -> None:
    receiver = http_receivers(always(Reply(202, b"{}")))
    base = receiver.url(base_path) if base_path else receiver.url().rstrip("/")
    outcome = await send(
        incident_message(channel="oncall-email"), api_config(provider, api_base=base)
    )
    assert outcome.ok
    assert [(r.method, r.path) for r in receiver.requests] == [
        ("POST", base_path.rstrip("/") + path)
    ]


async def test_an_email_api_refusing_the_key_is_a_permanent_failure(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(
        always(Reply(401, b'{"ErrorCode": 10, "Message": "Bad or missing API token"}'))
    )
    outcome = await send(
        incident_message(channel="oncall-email"),
        api_config("postmark", api_base=receiver.url()),
    )
    assert outcome.permanent
    assert "Bad or missing API token" in (outcome.error or "")


# ---- SMTP ----------------------------------------------------------------------------------------


def smtp_config(url: str) -> LoadedConfig:
    channel = {
        "type": "email",
        "smtp_url": url,
        "from": "upwatch@acme.test",
        "to": ["oncall@acme.test"],
    }
    return notify_config({"oncall-email": channel})


async def test_smtp_sends_multipart_text_and_html_with_a_stable_message_id(
    smtp_servers: Callable[[str], SmtpServer], send: Any
) -> None:
    server = smtp_servers("plain")
    message = incident_message(channel="oncall-email")
    loaded = smtp_config(server.url())
    first = await send(message, loaded)
    assert first.ok, first.error
    assert "queued" in (first.detail or "")
    await send(message, loaded)  # a retry after a lost answer
    one, two = server.mailbox.messages
    assert one["Subject"] == SUBJECT
    assert one["From"] == "upwatch@acme.test"
    assert one["To"] == "oncall@acme.test"
    assert one["Message-ID"] == two["Message-ID"]
    assert one["Auto-Submitted"] == "auto-generated"
    assert one.get_content_type() == "multipart/alternative"
    text = one.get_body(("plain",))
    html = one.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "Cause:        expected status 200, got 503" in text.get_content()
    assert f'href="{ACK_URL}"' in html.get_content()
    assert server.mailbox.envelopes[0] == ("upwatch@acme.test", ["oncall@acme.test"])
    assert server.mailbox.tls == [False, False]


async def test_smtp_upgrades_with_starttls_when_the_server_offers_it(
    smtp_servers: Callable[[str], SmtpServer], send: Any, test_ca: trustme.CA
) -> None:
    server = smtp_servers("starttls")
    outcome = await send(
        incident_message(channel="oncall-email"),
        smtp_config(server.url()),
        smtp_tls=client_tls(test_ca),
    )
    assert outcome.ok, outcome.error
    assert server.mailbox.tls == [True]


async def test_smtp_credentials_are_sent_only_after_starttls(
    smtp_servers: Callable[[str], SmtpServer], send: Any, test_ca: trustme.CA
) -> None:
    server = smtp_servers("auth")
    outcome = await send(
        incident_message(channel="oncall-email"),
        smtp_config(server.url(credentials=True)),
        smtp_tls=client_tls(test_ca),
    )
    assert outcome.ok, outcome.error
    assert server.mailbox.tls == [True]


async def test_smtp_refuses_to_send_credentials_to_a_server_without_starttls(
    smtp_servers: Callable[[str], SmtpServer], send: Any
) -> None:
    server = smtp_servers("auth-no-tls")
    outcome = await send(
        incident_message(channel="oncall-email"), smtp_config(server.url(credentials=True))
    )
    assert not outcome.ok
    assert outcome.permanent
    assert "does not offer STARTTLS" in (outcome.error or "")
    assert server.mailbox.messages == []
    assert SMTP_PASSWORD not in (outcome.error or "")


async def test_smtp_wrong_password_is_a_permanent_failure(
    smtp_servers: Callable[[str], SmtpServer], send: Any, test_ca: trustme.CA
) -> None:
    server = smtp_servers("auth")
    url = server.url(credentials=True).replace(SMTP_PASSWORD, "wrong-password")
    outcome = await send(
        incident_message(channel="oncall-email"), smtp_config(url), smtp_tls=client_tls(test_ca)
    )
    assert outcome.permanent
    assert "authentication failed" in (outcome.error or "")
    assert "wrong-password" not in (outcome.error or "")


async def test_smtps_is_tls_from_the_first_byte(
    smtp_servers: Callable[[str], SmtpServer], send: Any, test_ca: trustme.CA
) -> None:
    server = smtp_servers("smtps")
    outcome = await send(
        incident_message(channel="oncall-email"),
        smtp_config(server.url("smtps")),
        smtp_tls=client_tls(test_ca),
    )
    assert outcome.ok, outcome.error
    assert server.mailbox.tls == [True]


async def test_smtp_with_an_untrusted_certificate_is_retried_not_sent_in_clear(
    smtp_servers: Callable[[str], SmtpServer], send: Any
) -> None:
    server = smtp_servers("starttls")
    outcome = await send(incident_message(channel="oncall-email"), smtp_config(server.url()))
    assert not outcome.ok
    assert not outcome.permanent
    assert server.mailbox.messages == []


async def test_a_resolution_email_reads_well(
    smtp_servers: Callable[[str], SmtpServer], send: Any
) -> None:
    server = smtp_servers("plain")
    resolved = replace(
        INCIDENT, resolved_at=T0 + timedelta(minutes=10), resolution=Resolution.RECOVERED
    )
    message = incident_message(
        EventType.INCIDENT_RESOLVED, "oncall-email", incident=resolved, ack_url=None
    )
    await send(message, smtp_config(server.url()))
    [mail] = server.mailbox.messages
    assert mail["Subject"] == "[RESOLVED] Public API — recovered after 12m"
    body = mail.get_body(("plain",))
    assert body is not None
    assert body.get_content().startswith("Public API is UP again after 12m down.")
