"""The phone push channels (`telegram`, `ntfy`, `pushover`) against receivers on loopback that
judge requests the way each service does: the exact request, the services' limits (cut, never
rejected), Telegram's HTML, their rate-limit and refusal answers, no credential in any error,
templates overriding per channel, and `upwatch notify-test` through each."""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests import notify_receivers as nr
from tests.notify_receivers import (
    ACK_URL,
    INCIDENT,
    PAGE_URL,
    T0,
    Clock,
    HttpReceiver,
    Received,
    Reply,
    always,
    attempts,
    notify_config,
    outbox_rows,
    seed_incident,
)
from upwatch.cli import main
from upwatch.config.loader import ConfigInvalid, LoadedConfig
from upwatch.engine.model import EventType
from upwatch.notify.channels import push
from upwatch.notify.channels.base import SendContext
from upwatch.notify.channels.pushover import PRIORITY
from upwatch.notify.dispatch import deliver
from upwatch.notify.message import Message
from upwatch.notify.outcome import Outcome
from upwatch.notify.render import Renderer
from upwatch.notify.worker import DeliveryWorker

http_receivers = nr.http_receivers
make_worker = nr.make_worker

MakeReceiver = Callable[..., HttpReceiver]
MakeWorker = Callable[..., DeliveryWorker]
BOT_TOKEN = "7012345678:AAH-t3legram_bot_token-for_tests"
NTFY_TOKEN = "tk_ntfyaccesstokenfortests0001"
USER_KEY = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
APP_TOKEN = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
SECRETS = (BOT_TOKEN, NTFY_TOKEN, USER_KEY, APP_TOKEN)
SUBJECT = "[DOWN] Public API — expected status 200, got 503"


def incident_message(
    channel: str,
    event: EventType = EventType.INCIDENT_OPENED,
    *,
    cause: str = "expected status 200, got 503",
    name: str = "Public API",
    ack_url: str | None = ACK_URL,
    severity: str = "critical",
) -> Message:
    message = nr.incident_message(
        channel,
        event,
        incident=replace(INCIDENT, cause=cause),
        name=name,
        ack_url=ack_url,
        told=(channel,),
    )
    return replace(message, severity=severity)


@pytest.fixture
async def send() -> AsyncIterator[Callable[..., Any]]:
    """`await send(message, loaded)`: one delivery through the dispatcher, as the worker does."""
    async with httpx.AsyncClient() as client:

        async def run(message: Message, loaded: LoadedConfig, **options: Any) -> Outcome:
            ctx = SendContext(http=client, renderer=Renderer(), clock=lambda: T0, **options)
            return await deliver(message, loaded, ctx, send_timeout=5.0)

        yield run


def assert_no_secret(outcome: Outcome) -> None:
    for secret in SECRETS:
        assert secret not in (outcome.error or "")


# ---- Telegram ------------------------------------------------------------------------------------

TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}


class TelegramHtml(HTMLParser):
    """Telegram's HTML mode: only its tags; the text length counted after entities are parsed
    (https://core.telegram.org/bots/api#html-style)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text, self.bad_tags = "", set[str]()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.bad_tags.add(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


def telegram_problem(document: dict[str, Any], refuse_local_buttons: bool) -> str | None:
    parser = TelegramHtml()
    parser.feed(document["text"])
    if parser.bad_tags:
        return "Bad Request: can't parse entities: unsupported start tag"
    if not 1 <= len(parser.text) <= 4096:
        return "Bad Request: message is too long"
    rows = (document.get("reply_markup") or {}).get("inline_keyboard", [])
    hosts = {urlsplit(button["url"]).hostname for row in rows for button in row}
    if refuse_local_buttons and hosts & {"127.0.0.1", "localhost"}:
        return "Bad Request: BUTTON_URL_INVALID"
    return None


def telegram_like(mode: str = "ok", *, refuse_local_buttons: bool = False) -> nr.Script:
    """The Bot API's sendMessage: `ok`, `flood` (429 with parameters.retry_after),
    `chat_not_found` (400), `blocked` (403), `unauthorized` (401), `migrated` (400 with
    parameters.migrate_to_chat_id), `down` (502)."""

    def reply(request: Received) -> Reply:
        if not request.path.startswith(f"/bot{BOT_TOKEN}/"):
            return answer(404, "Not Found")
        problem = telegram_problem(request.json(), refuse_local_buttons)
        if problem is not None:
            return answer(400, problem)
        return {
            "ok": Reply(200, json.dumps({"ok": True, "result": {"message_id": 7}}).encode()),
            "flood": answer(429, "Too Many Requests: retry after 37", retry_after=37),
            "chat_not_found": answer(400, "Bad Request: chat not found"),
            "blocked": answer(403, "Forbidden: bot was blocked by the user"),
            "unauthorized": answer(401, "Unauthorized"),
            "migrated": answer(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=-1001234567890,
            ),
            "down": Reply(502, b"Bad Gateway"),
        }[mode]

    return reply


def answer(status: int, description: str, **parameters: Any) -> Reply:
    document: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        document["parameters"] = parameters
    return Reply(status, json.dumps(document).encode())


def telegram_config(receiver: HttpReceiver, chat_id: Any = -1001234567890) -> LoadedConfig:
    channel = {
        "type": "telegram",
        "bot_token": BOT_TOKEN,
        "chat_id": chat_id,
        "api_base": receiver.url(""),
    }
    return notify_config({"ops-telegram": channel})


async def test_telegram_gets_send_message_in_html_with_link_buttons(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(telegram_like())
    outcome = await send(incident_message("ops-telegram"), telegram_config(receiver))
    assert outcome.ok
    request = receiver.requests[0]
    assert (request.method, request.path) == ("POST", f"/bot{BOT_TOKEN}/sendMessage")
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    body = request.json()
    assert body["chat_id"] == -1001234567890
    assert body["parse_mode"] == "HTML"
    assert body["disable_web_page_preview"] is True
    assert body["text"].startswith(
        f"<b>{SUBJECT}</b>\n\nPublic API is DOWN: expected status 200, got 503\n\n"
        "Monitor: Public API (Core services)\nSeverity: critical\nState: DOWN\n"
    )
    assert body["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Acknowledge", "url": ACK_URL}, {"text": "Status page", "url": PAGE_URL}]
        ]
    }


async def test_telegram_chat_id_may_be_a_channel_username(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(telegram_like())
    loaded = telegram_config(receiver, chat_id="@acme_status")
    assert (await send(incident_message("ops-telegram"), loaded)).ok
    assert receiver.requests[0].json()["chat_id"] == "@acme_status"


async def test_telegram_escapes_html_in_names_and_causes(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(telegram_like())
    message = incident_message(
        "ops-telegram", cause="<script>alert(1)</script> & co", name="R&D <internal>"
    )
    outcome = await send(message, telegram_config(receiver))
    assert outcome.ok  # the receiver parses it as Telegram would: no unknown tag
    text = receiver.requests[0].json()["text"]
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in text
    assert text.startswith("<b>[DOWN] R&amp;D &lt;internal&gt; — &lt;script&gt;")


@pytest.mark.parametrize("cause", ["x" * 10_000, "&<>" * 3_000, "🔥" * 5_000])
async def test_a_long_telegram_message_is_cut_to_fit_not_rejected(
    http_receivers: MakeReceiver, send: Any, cause: str
) -> None:
    receiver = http_receivers(telegram_like())
    outcome = await send(incident_message("ops-telegram", cause=cause), telegram_config(receiver))
    assert outcome.ok
    text = receiver.requests[0].json()["text"]
    assert len(text.encode("utf-16-le")) // 2 <= 4096
    assert text.endswith("…")
    body = text.partition("</b>\n\n")[2]
    assert html.escape(html.unescape(body), quote=False) == body  # no entity cut in half


async def test_telegram_flood_control_is_retried_after_its_retry_after(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(telegram_like("flood"))
    outcome = await send(incident_message("ops-telegram"), telegram_config(receiver))
    assert not outcome.ok
    assert not outcome.permanent
    assert outcome.status_code == 429
    assert outcome.retry_after == timedelta(seconds=37)
    assert outcome.error == "HTTP 429: Too Many Requests: retry after 37"


@pytest.mark.parametrize(
    ("mode", "status", "error"),
    [
        ("chat_not_found", 400, "HTTP 400: Bad Request: chat not found"),
        ("blocked", 403, "HTTP 403: Forbidden: bot was blocked by the user"),
        ("unauthorized", 401, "HTTP 401: Unauthorized"),
        (
            "migrated",
            400,
            "HTTP 400: Bad Request: group chat was upgraded to a supergroup chat "
            "(the group is now a supergroup: set chat_id to -1001234567890)",
        ),
    ],
)
async def test_telegram_refusals_are_permanent_and_say_why(
    http_receivers: MakeReceiver, send: Any, mode: str, status: int, error: str
) -> None:
    receiver = http_receivers(telegram_like(mode))
    outcome = await send(incident_message("ops-telegram"), telegram_config(receiver))
    assert (outcome.ok, outcome.permanent, outcome.status_code) == (False, True, status)
    assert outcome.error == error


async def test_telegram_server_errors_are_retried(http_receivers: MakeReceiver, send: Any) -> None:
    receiver = http_receivers(telegram_like("down"))
    outcome = await send(incident_message("ops-telegram"), telegram_config(receiver))
    assert (outcome.ok, outcome.permanent, outcome.status_code) == (False, False, 502)


async def test_the_bot_token_in_the_path_never_reaches_an_error(
    http_receivers: MakeReceiver, send: Any
) -> None:
    # A proxy in front of the Bot API that quotes the path it could not route.
    receiver = http_receivers(lambda request: Reply(404, f"no route for {request.path}".encode()))
    outcome = await send(incident_message("ops-telegram"), telegram_config(receiver))
    assert outcome.permanent
    assert "no route for /bot" in (outcome.error or "")
    assert_no_secret(outcome)


async def test_telegram_refusing_a_button_url_gets_the_links_in_the_text(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(telegram_like(refuse_local_buttons=True))
    message = replace(
        incident_message("ops-telegram"),
        ack_url="http://127.0.0.1:8080/ack/42.1797000000.c2ln",
        status_page_url="http://127.0.0.1:8080/monitors/api",
    )
    outcome = await send(message, telegram_config(receiver))
    assert outcome.ok
    first, second = (r.json() for r in receiver.requests)
    assert "reply_markup" in first
    assert "reply_markup" not in second
    assert second["text"].endswith(
        "\n\nAcknowledge: http://127.0.0.1:8080/ack/42.1797000000.c2ln"
        "\n\nStatus page: http://127.0.0.1:8080/monitors/api"
    )


async def test_a_telegram_flood_answer_sets_the_next_attempt_and_no_attempt_holds_the_token(
    engine: AsyncEngine, http_receivers: MakeReceiver, make_worker: MakeWorker
) -> None:
    clock = Clock()
    modes = iter(["flood", "ok"])

    def flood_then_ok(request: Received) -> Reply:
        return telegram_like(next(modes))(request)

    receiver = http_receivers(flood_then_ok)
    loaded = telegram_config(receiver)
    await seed_incident(engine, loaded)
    worker = make_worker(loaded, clock)

    await worker.run_once()
    [row] = await outbox_rows(engine)
    assert row.next_attempt_at == T0 + timedelta(seconds=37)
    clock.now = T0 + timedelta(seconds=36)
    assert await worker.run_once() == 0
    clock.now = T0 + timedelta(seconds=37)
    assert await worker.run_once() == 1
    recorded = await attempts(engine)
    assert [a.status_code for a in recorded] == [429, 200]
    assert all(BOT_TOKEN not in str(tuple(a)) for a in recorded)


# ---- ntfy ----------------------------------------------------------------------------------------


def ntfy_config(receiver: HttpReceiver, **extra: Any) -> LoadedConfig:
    channel = {"type": "ntfy", "url": receiver.url("/upwatch-alerts"), **extra}
    return notify_config({"phone": channel})


def ntfy_like(status: int = 200, **headers: str) -> nr.Script:
    """ntfy's JSON publishing: the topic in the body, at most 4,096 bytes of message."""

    def reply(request: Received) -> Reply:
        document = request.json()
        if request.path != "/" or not document.get("topic"):
            return Reply(400, b'{"code":40001,"http":400,"error":"invalid request"}')
        if len(document["message"].encode()) > 4096:
            return Reply(413, b'{"code":41301,"http":413,"error":"too large"}')
        if status != 200:
            return Reply(status, b'{"code":42901,"http":429,"error":"limit reached"}', headers)
        return Reply(200, json.dumps({"id": "hwQ2YpKdmg", "event": "message"}).encode())

    return reply


async def test_ntfy_gets_json_with_priority_tags_click_and_an_acknowledge_action(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(ntfy_like())
    outcome = await send(incident_message("phone"), ntfy_config(receiver, token=NTFY_TOKEN))
    assert outcome.ok
    request = receiver.requests[0]
    assert (request.method, request.path) == ("POST", "/")
    assert request.headers["authorization"] == f"Bearer {NTFY_TOKEN}"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    body = request.json()
    assert body == {
        "topic": "upwatch-alerts",
        "title": SUBJECT,
        "message": body["message"],
        "priority": 5,
        "tags": ["rotating_light"],
        "click": PAGE_URL,
        "actions": [{"action": "view", "label": "Acknowledge", "url": ACK_URL, "clear": True}],
    }
    assert body["message"].startswith("Public API is DOWN: expected status 200, got 503\n\n")


async def test_ntfy_without_a_token_sends_no_authorization(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(ntfy_like())
    message = incident_message("phone", EventType.INCIDENT_RESOLVED, ack_url=None)
    assert (await send(message, ntfy_config(receiver))).ok
    body = receiver.requests[0].json()
    assert "authorization" not in receiver.requests[0].headers
    assert (body["priority"], body["tags"]) == (3, ["white_check_mark"])
    assert "actions" not in body


async def test_ntfy_carries_any_language_and_cuts_the_message_to_4096_bytes(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(ntfy_like())
    message = incident_message("phone", cause="Zeitüberschreitung " * 400, name="Zahlungs-API Köln")
    assert (await send(message, ntfy_config(receiver))).ok
    body = receiver.requests[0].json()
    assert body["title"].startswith("[DOWN] Zahlungs-API Köln — Zeitüberschreitung")
    assert len(body["message"].encode()) <= 4096
    assert body["message"].endswith("…")


async def test_ntfy_rate_limit_is_retried_after_retry_after(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(ntfy_like(429, **{"Retry-After": "30"}))
    outcome = await send(incident_message("phone"), ntfy_config(receiver))
    assert (outcome.ok, outcome.permanent, outcome.status_code) == (False, False, 429)
    assert outcome.retry_after == timedelta(seconds=30)


async def test_ntfy_refusing_the_token_is_permanent_and_the_token_is_never_shown(
    http_receivers: MakeReceiver, send: Any
) -> None:
    # A server that quotes the header it refused.
    receiver = http_receivers(
        lambda request: Reply(401, f"bad auth: {request.headers['authorization']}".encode())
    )
    outcome = await send(incident_message("phone"), ntfy_config(receiver, token=NTFY_TOKEN))
    assert (outcome.permanent, outcome.status_code) == (True, 401)
    assert (outcome.error or "").startswith("HTTP 401: bad auth: Bearer ")
    assert_no_secret(outcome)


@pytest.mark.parametrize("url", ["https://ntfy.sh", "https://ntfy.sh/", "https://ntfy.sh/a b"])
def test_an_ntfy_url_without_a_topic_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigInvalid, match="the topic's URL"):
        notify_config({"phone": {"type": "ntfy", "url": url}})


# ---- Pushover ------------------------------------------------------------------------------------


def pushover_config(receiver: HttpReceiver) -> LoadedConfig:
    channel = {
        "type": "pushover",
        "user_key": USER_KEY,
        "app_token": APP_TOKEN,
        "api_base": receiver.url(""),
    }
    return notify_config({"oncall-pushover": channel})


def pushover_problem(form: dict[str, str]) -> str | None:
    """What https://pushover.net/api rejects (None: accepted)."""
    if form.get("token") != APP_TOKEN:
        return "application token is invalid"
    if form.get("user") != USER_KEY:
        return "user identifier is not a valid user, group, or subscribed user key"
    too_long = [
        name
        for name, limit in (("title", 250), ("message", 1024), ("url", 512), ("url_title", 100))
        if len(form.get(name, "")) > limit
    ]
    if too_long or not form.get("message"):
        return f"{(too_long or ['message'])[0]} is invalid"
    if form.get("priority") == "2" and not form.get("retry"):
        return "retry is required for emergency-priority notifications"
    return None


def pushover_like(status: int = 200, **headers: str) -> nr.Script:
    def reply(request: Received) -> Reply:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        problem = pushover_problem(form)
        if problem is not None:
            return Reply(400, json.dumps({"status": 0, "errors": [problem]}).encode())
        if status != 200:
            return Reply(status, b'{"status":0,"errors":["over limit"]}', headers)
        return Reply(200, b'{"status":1,"request":"647d2300-702c-4b38-8b2f-d56326ae460b"}')

    return reply


def form_of(request: Received) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.body.decode()).items()}


async def test_pushover_gets_a_form_with_title_message_link_priority_and_time(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(pushover_like())
    outcome = await send(incident_message("oncall-pushover"), pushover_config(receiver))
    assert outcome.ok
    request = receiver.requests[0]
    assert (request.method, request.path) == ("POST", "/1/messages.json")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = form_of(request)
    assert form == {
        "token": APP_TOKEN,
        "user": USER_KEY,
        "title": SUBJECT,
        "message": form["message"],
        "url": ACK_URL,
        "url_title": "Acknowledge",
        "priority": "1",
        "timestamp": str(int(T0.timestamp())),
    }
    assert form["message"].startswith("Public API is DOWN: expected status 200, got 503\n\n")


async def test_pushover_without_an_ack_link_links_the_status_page(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(pushover_like())
    message = incident_message("oncall-pushover", severity="info", ack_url=None)
    assert (await send(message, pushover_config(receiver))).ok
    form = form_of(receiver.requests[0])
    assert (form["url"], form["url_title"], form["priority"]) == (PAGE_URL, "Status page", "-1")


async def test_pushover_limits_are_kept_by_cutting_not_by_failing(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(pushover_like())
    message = incident_message(
        "oncall-pushover",
        cause="connection reset by peer " * 100,
        ack_url="https://status.acme.test/ack/" + "x" * 600,
    )
    assert (await send(message, pushover_config(receiver))).ok
    form = form_of(receiver.requests[0])
    assert len(form["title"]) == 250
    assert len(form["message"]) == 1024
    assert form["message"].endswith("…")
    assert form["url"] == PAGE_URL  # the acknowledge link is over 512 characters


async def test_pushover_refusals_are_permanent_with_its_errors_and_no_credential(
    http_receivers: MakeReceiver, send: Any
) -> None:
    # Pushover's answer to a bad key, plus the request echoed back (a proxy could).
    receiver = http_receivers(
        lambda request: Reply(
            400,
            json.dumps(
                {"user": "invalid", "errors": [f"user key is invalid: {request.body.decode()}"]}
            ).encode(),
        )
    )
    outcome = await send(incident_message("oncall-pushover"), pushover_config(receiver))
    assert (outcome.permanent, outcome.status_code) == (True, 400)
    assert (outcome.error or "").startswith("HTTP 400: user key is invalid")
    assert_no_secret(outcome)


async def test_pushover_over_its_monthly_limit_retries_when_the_limit_resets_within_a_day(
    http_receivers: MakeReceiver, send: Any
) -> None:
    reset = T0 + timedelta(hours=16)
    receiver = http_receivers(
        pushover_like(429, **{"X-Limit-App-Reset": str(int(reset.timestamp()))})
    )
    outcome = await send(incident_message("oncall-pushover"), pushover_config(receiver))
    assert (outcome.ok, outcome.permanent, outcome.status_code) == (False, False, 429)
    assert outcome.retry_after == timedelta(hours=16)


async def test_pushover_over_its_monthly_limit_for_longer_fails_now_and_says_so(
    http_receivers: MakeReceiver, send: Any
) -> None:
    reset = datetime(2026, 12, 1, tzinfo=T0.tzinfo)
    receiver = http_receivers(
        pushover_like(429, **{"X-Limit-App-Reset": str(int(reset.timestamp()))})
    )
    outcome = await send(incident_message("oncall-pushover"), pushover_config(receiver))
    assert (outcome.permanent, outcome.status_code) == (True, 429)
    assert outcome.error == (
        "Pushover's monthly message limit for this application is used up until "
        "2026-12-01 00:00 UTC: raise it at pushover.net or use another application"
    )


async def test_pushover_server_errors_are_retried(http_receivers: MakeReceiver, send: Any) -> None:
    receiver = http_receivers(always(Reply(503, b"maintenance")))
    outcome = await send(incident_message("oncall-pushover"), pushover_config(receiver))
    assert (outcome.ok, outcome.permanent, outcome.status_code) == (False, False, 503)


# ---- what the three share ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "severity", "urgency"),
    [
        (EventType.INCIDENT_OPENED, "critical", 5),
        (EventType.INCIDENT_ESCALATED, "error", 4),
        (EventType.INCIDENT_REMINDER, "warning", 3),
        (EventType.INCIDENT_OPENED, "info", 2),
        (EventType.INCIDENT_ACKNOWLEDGED, "critical", 3),
        (EventType.INCIDENT_RESOLVED, "critical", 3),
        (EventType.INCIDENT_RESOLVED, "info", 2),
        (EventType.MONITOR_DEGRADED, "critical", 4),
        (EventType.CERTIFICATE_EXPIRING, "warning", 3),
        (EventType.MONITOR_SETTLED, "error", 3),
        (EventType.CHANNEL_FAILED, None, 4),
        (EventType.TEST, None, 3),
    ],
)
def test_urgency_follows_severity_and_good_news_never_wakes_anyone(
    event: EventType, severity: str | None, urgency: int
) -> None:
    message = replace(incident_message("phone"), event=event, severity=severity)
    assert push.urgency(message) == urgency


def test_pushover_priorities_never_reach_emergency() -> None:
    assert PRIORITY == {5: 1, 4: 0, 3: 0, 2: -1, 1: -2}


def all_three(receivers: dict[str, HttpReceiver]) -> dict[str, Any]:
    return {
        "ops-telegram": {
            "type": "telegram",
            "bot_token": BOT_TOKEN,
            "chat_id": 42,
            "api_base": receivers["ops-telegram"].url(""),
        },
        "phone": {"type": "ntfy", "url": receivers["phone"].url("/upwatch-alerts")},
        "oncall-pushover": {
            "type": "pushover",
            "user_key": USER_KEY,
            "app_token": APP_TOKEN,
            "api_base": receivers["oncall-pushover"].url(""),
        },
    }


SCRIPTS = {
    "ops-telegram": telegram_like(),
    "phone": ntfy_like(),
    "oncall-pushover": pushover_like(),
}


def title_and_body(channel: str, request: Received) -> tuple[str, str]:
    if channel == "ops-telegram":
        title, _, body = request.json()["text"].partition("\n\n")
        return title, body
    if channel == "phone":
        return request.json()["title"], request.json()["message"]
    form = form_of(request)
    return form["title"], form["message"]


@pytest.mark.parametrize("channel", list(SCRIPTS))
async def test_user_templates_override_each_push_channel(
    http_receivers: MakeReceiver, send: Any, tmp_path: Path, channel: str
) -> None:
    (tmp_path / "subject.txt").write_text("{{ tag }}! {{ monitor.name }}")
    (tmp_path / "push.txt").write_text("{{ cause }} — {{ channel }} says <b>&</b>")
    receivers = {name: http_receivers(script) for name, script in SCRIPTS.items()}
    loaded = notify_config(all_three(receivers), notifications={"templates_dir": "."})
    loaded = replace(loaded, path=str(tmp_path / "monitors.yaml"))
    ctx_renderer = Renderer.for_config(loaded)
    async with httpx.AsyncClient() as client:
        ctx = SendContext(http=client, renderer=ctx_renderer, clock=lambda: T0)
        outcome = await deliver(incident_message(channel), loaded, ctx, send_timeout=5.0)
    assert outcome.ok
    title, body = title_and_body(channel, receivers[channel].requests[0])
    if channel == "ops-telegram":
        assert (title, body) == (
            "<b>DOWN! Public API</b>",
            "expected status 200, got 503 — ops-telegram says &lt;b&gt;&amp;&lt;/b&gt;",
        )
    else:
        assert (title, body) == (
            "DOWN! Public API",
            f"expected status 200, got 503 — {channel} says <b>&</b>",
        )


@pytest.mark.parametrize("channel", list(SCRIPTS))
def test_notify_test_delivers_through_each_push_channel(
    http_receivers: MakeReceiver,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    channel: str,
) -> None:
    receivers = {name: http_receivers(script) for name, script in SCRIPTS.items()}
    document = {
        "version": 1,
        "status_page": {"public_url": "https://status.acme.test"},
        "channels": all_three(receivers),
        "monitors": [{"id": "api", "name": "Public API", "url": "https://api.acme.test/"}],
    }
    config = tmp_path / "monitors.yaml"
    config.write_text(json.dumps(document))

    assert main(["notify-test", channel, "-c", str(config)]) == 0

    kind = all_three(receivers)[channel]["type"]
    assert capsys.readouterr().out.startswith(
        f"ok: test message delivered through {channel} ({kind}: HTTP 200 in "
    )
    title, _ = title_and_body(channel, receivers[channel].requests[0])
    expected = f"[TEST] upwatch — test notification through {channel}"
    assert title == (f"<b>{expected}</b>" if channel == "ops-telegram" else expected)
    assert [len(r.requests) for name, r in receivers.items() if name != channel] == [0, 0]


async def test_a_channel_type_s_own_template_overrides_that_type_alone(
    http_receivers: MakeReceiver, tmp_path: Path
) -> None:
    (tmp_path / "ntfy.txt").write_text("short: {{ cause }}")
    receivers = {name: http_receivers(script) for name, script in SCRIPTS.items()}
    loaded = notify_config(all_three(receivers), notifications={"templates_dir": "."})
    loaded = replace(loaded, path=str(tmp_path / "monitors.yaml"))
    async with httpx.AsyncClient() as client:
        ctx = SendContext(http=client, renderer=Renderer.for_config(loaded), clock=lambda: T0)
        for channel in SCRIPTS:
            assert (await deliver(incident_message(channel), loaded, ctx)).ok
    bodies = {name: title_and_body(name, r.requests[0])[1] for name, r in receivers.items()}
    assert bodies["phone"] == "short: expected status 200, got 503"
    assert bodies["oncall-pushover"].startswith("Public API is DOWN: expected status 200")
    assert bodies["ops-telegram"].startswith("Public API is DOWN: expected status 200")
