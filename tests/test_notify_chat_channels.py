"""The `discord`, `teams` and `google_chat` channels against receivers on loopback that judge
requests the way each vendor does: Discord's embed limits, the published Adaptive Card schema
(tests/schemas/), Google Chat's 4,096 characters; their rate-limit answers and refusals."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from tests import notify_receivers as nr
from tests.notify_receivers import (
    ACK_URL,
    INCIDENT,
    PAGE_URL,
    T0,
    HttpReceiver,
    Received,
    Reply,
    free_port,
    incident_message,
    notify_config,
)
from upwatch.cli import main
from upwatch.config.loader import LoadedConfig
from upwatch.engine.model import EventType, Resolution
from upwatch.notify.channels import discord, google_chat, teams
from upwatch.notify.channels.base import SendContext
from upwatch.notify.dispatch import deliver
from upwatch.notify.message import Message
from upwatch.notify.outcome import Outcome
from upwatch.notify.render import Renderer
from upwatch.notify.tone import Tone

http_receivers = nr.http_receivers

MakeReceiver = Callable[..., HttpReceiver]
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "adaptive-card-1.4.json").read_text())
DISCORD_PATH = "/api/webhooks/1234567890/Zx9-discord-webhook-token-0001"
TEAMS_PATH = "/workflows/0a1b2c3d/triggers/manual/paths/invoke"
TEAMS_QUERY = "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=T3amsS1gnature0001"
CHAT_PATH = "/v1/spaces/AAAAbcdEfG/messages"
CHAT_QUERY = "?key=AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI&token=ch4tT0ken-0001%3D"
HOSTILE = "@everyone <@&123> <users/all> **bold** [click](https://evil.test) `x` <https://e|y>"


class ManyFacts(Message):
    """A message with 40 long facts, more than any vendor shows."""

    def facts(self) -> list[tuple[str, str]]:
        return [(f"Fact {n} " + "l" * 300, f"value {n} " + "v" * 2000) for n in range(40)]


def many_facts(message: Message) -> Message:
    return ManyFacts(**{f.name: getattr(message, f.name) for f in fields(message)})


def hostile_message(channel: str) -> Message:
    huge = replace(INCIDENT, cause=HOSTILE + " body was: " + "y" * 20_000)
    return many_facts(incident_message(channel, incident=huge, name=HOSTILE + " " + "n" * 400))


@pytest.fixture
async def send() -> AsyncIterator[Callable[..., Any]]:
    """`await send(message, loaded, renderer=...)`: one delivery, as the worker does it."""
    async with httpx.AsyncClient() as http:

        async def run(
            message: Message, loaded: LoadedConfig, renderer: Renderer | None = None
        ) -> Outcome:
            ctx = SendContext(http=http, renderer=renderer or Renderer(), clock=lambda: T0)
            return await deliver(message, loaded, ctx, send_timeout=5.0)

        yield run


@pytest.fixture
async def context() -> AsyncIterator[SendContext]:
    async with httpx.AsyncClient() as http:
        yield SendContext(http=http, renderer=Renderer(), clock=lambda: T0)


def chat_config(kind: str, url: str) -> LoadedConfig:
    return notify_config({f"team-{kind}": {"type": kind, "url": url}})


# ---- receivers that judge requests as each vendor does --------------------------------------


def discord_problem(document: Any) -> str | None:
    """What Discord would refuse (None: accepted). The embed limits of
    https://discord.com/developers/docs/resources/message#embed-object-embed-limits"""
    embeds = document.get("embeds") or []
    if len(embeds) > 10:
        return "embeds"
    total = 0
    for embed in embeds:
        sized = [
            (embed.get("title", ""), 256),
            (embed.get("description", ""), 4096),
            ((embed.get("footer") or {}).get("text", ""), 2048),
        ]
        for field in embed.get("fields", []):
            sized += [(field["name"], 256), (field["value"], 1024)]
        if len(embed.get("fields", [])) > 25 or any(len(t) > limit for t, limit in sized):
            return "BASE_TYPE_MAX_LENGTH"
        total += sum(len(t) for t, _ in sized)
    return "embeds total over 6000" if total > 6000 else None


def discord_like(mode: str = "ok", retry_after: float = 2.5, header: str | None = None) -> Any:
    """Discord's webhook: `ok` (204), `rate_limited` (429 with `retry_after` in the body and
    optionally `Retry-After`), `unknown_webhook` (404), `down` (502); a body over the embed
    limits is a 400 whatever the mode."""

    def reply(request: Received) -> Reply:
        problem = discord_problem(request.json())
        if problem is not None:
            body = {"code": 50035, "message": "Invalid Form Body", "errors": problem}
            return Reply(400, json.dumps(body).encode(), {"Content-Type": "application/json"})
        if mode == "rate_limited":
            body = {"message": "You are being rate limited.", "retry_after": retry_after}
            headers = {"Content-Type": "application/json"}
            if header is not None:
                headers["Retry-After"] = header
            return Reply(429, json.dumps({**body, "global": False}).encode(), headers)
        if mode == "unknown_webhook":
            return Reply(404, b'{"message": "Unknown Webhook", "code": 10015}')
        if mode == "down":
            return Reply(502, b"Bad Gateway")
        return Reply(204, b"")

    return reply


def card_problem(document: Any) -> str | None:
    """What Teams would refuse: not a Workflows message with one Adaptive Card valid under the
    published schema, or more than 28 KB."""
    attachments = document.get("attachments") or [{}]
    if document.get("type") != "message" or len(attachments) != 1:
        return "not a message"
    if attachments[0].get("contentType") != "application/vnd.microsoft.card.adaptive":
        return "not an Adaptive Card"
    errors = list(jsonschema.Draft6Validator(SCHEMA).iter_errors(attachments[0]["content"]))
    if errors:
        return f"invalid card: {errors[0].message[:200]}"
    too_big = len(json.dumps(document, ensure_ascii=False).encode()) > 28 * 1024
    return "message over 28 KB" if too_big else None


def teams_like(mode: str = "ok") -> Any:
    """A Workflows trigger: `ok` (202), `throttled` (429 + Retry-After), `gone` (404)."""

    def reply(request: Received) -> Reply:
        problem = card_problem(request.json())
        if problem is not None:
            return Reply(400, json.dumps({"error": {"message": problem}}).encode())
        if mode == "throttled":
            return Reply(
                429, b'{"error":{"code":"WorkflowTriggerIsThrottled"}}', {"Retry-After": "20"}
            )
        if mode == "gone":
            return Reply(404, b'{"error":{"code":"WorkflowNotFound"}}')
        return Reply(202, b"")

    return reply


def google_chat_like(mode: str = "ok") -> Any:
    """Google Chat's webhook: `ok` (200 with the message), `exhausted` (429), `bad_token`
    (401); a text over 4,096 characters is a 400."""

    def reply(request: Received) -> Reply:
        text = request.json().get("text", "")
        if not isinstance(text, str) or len(text) > 4096:
            return Reply(400, b'{"error": {"code": 400, "status": "INVALID_ARGUMENT"}}')
        if mode == "exhausted":
            return Reply(429, b'{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}')
        if mode == "bad_token":
            return Reply(401, b'{"error": {"code": 401, "status": "UNAUTHENTICATED"}}')
        return Reply(
            200, json.dumps({"name": "spaces/AAAAbcdEfG/messages/1", "text": text}).encode()
        )

    return reply


# ---- Discord ---------------------------------------------------------------------------------


async def test_discord_gets_one_embed_with_every_fact_and_both_links(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(discord_like())
    loaded = chat_config("discord", receiver.url(DISCORD_PATH))
    outcome = await send(incident_message("team-discord"), loaded)
    assert outcome.ok, outcome.error
    assert outcome.status_code == 204
    request = receiver.requests[0]
    assert (request.method, request.path) == ("POST", DISCORD_PATH)
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert set(body) == {"embeds", "allowed_mentions"}
    assert body["allowed_mentions"] == {"parse": []}
    (embed,) = body["embeds"]
    assert embed["title"] == "[DOWN] Public API — expected status 200, got 503"
    assert embed["url"] == PAGE_URL
    assert embed["color"] == discord.COLOURS[Tone.BAD]
    assert embed["timestamp"] == T0.isoformat()
    assert embed["description"] == (
        "Public API is DOWN: expected status 200, got 503\n"
        "Acknowledge to stop the escalation and the reminders.\n\n"
        f"[Acknowledge]({ACK_URL}) · [Status page]({PAGE_URL})"
    )
    shown = [(f["name"], f["value"]) for f in embed["fields"]]
    assert shown == [
        ("Monitor", "Public API (Core services)"),
        ("Severity", "critical"),
        ("State", "DOWN"),
        ("Cause", "expected status 200, got 503"),
        ("Since", "2026-11-22 07:58 UTC"),
        ("Duration", "2m"),
        ("Told", "team-slack, oncall-email"),
    ]
    assert embed["footer"] == {"text": "upwatch · incident #42 · policy critical, step 1"}


async def test_a_resolved_discord_embed_is_green_and_has_no_acknowledge_link(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(discord_like())
    resolved = replace(INCIDENT, resolved_at=T0, resolution=Resolution.RECOVERED)
    message = incident_message(
        "team-discord", EventType.INCIDENT_RESOLVED, incident=resolved, ack_url=None
    )
    await send(message, chat_config("discord", receiver.url(DISCORD_PATH)))
    (embed,) = receiver.requests[0].json()["embeds"]
    assert embed["color"] == discord.COLOURS[Tone.GOOD]
    assert embed["description"].endswith(f"\n\n[Status page]({PAGE_URL})")
    assert "Acknowledge" not in embed["description"]


async def test_discord_embeds_are_truncated_to_discord_s_limits_and_escape_markdown(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(discord_like())
    loaded = chat_config("discord", receiver.url(DISCORD_PATH))
    outcome = await send(hostile_message("team-discord"), loaded)
    assert outcome.ok, outcome.error  # the receiver answers 400 over any limit
    body = receiver.requests[0].json()
    (embed,) = body["embeds"]
    assert discord_problem(body) is None
    assert 0 < len(embed["fields"]) <= 25
    assert len(embed["title"]) <= 256
    # The links survive any cut: they close the description.
    assert embed["description"].endswith(f"[Acknowledge]({ACK_URL}) · [Status page]({PAGE_URL})")
    described = embed["description"]
    assert r"\<@&123\> \<users/all\> \*\*bold\*\* \[click\](https://evil.test) \`x\`" in described
    assert "<@&123>" not in json.dumps(embed["fields"])
    assert body["allowed_mentions"] == {"parse": []}  # so `@everyone` pings no one


@pytest.mark.parametrize(
    ("retry_after", "header", "delay"),
    [
        (2.5, None, timedelta(seconds=2.5)),  # the body says it, as a float
        (0.8, "1", timedelta(seconds=1)),  # the longer of body and header
        (64.57, "65", timedelta(seconds=65)),
    ],
)
async def test_discord_rate_limits_are_retried_after_the_delay_discord_names(
    http_receivers: MakeReceiver,
    send: Any,
    retry_after: float,
    header: str | None,
    delay: timedelta,
) -> None:
    receiver = http_receivers(discord_like("rate_limited", retry_after, header))
    outcome = await send(
        incident_message("team-discord"), chat_config("discord", receiver.url(DISCORD_PATH))
    )
    assert not outcome.ok
    assert not outcome.permanent
    assert outcome.status_code == 429
    assert outcome.retry_after == delay


@pytest.mark.parametrize(
    ("mode", "status", "permanent"), [("unknown_webhook", 404, True), ("down", 502, False)]
)
async def test_discord_refusals_are_permanent_and_outages_retried(
    http_receivers: MakeReceiver, send: Any, mode: str, status: int, permanent: bool
) -> None:
    receiver = http_receivers(discord_like(mode))
    outcome = await send(
        incident_message("team-discord"), chat_config("discord", receiver.url(DISCORD_PATH))
    )
    assert (outcome.ok, outcome.status_code, outcome.permanent) == (False, status, permanent)
    if mode == "unknown_webhook":
        assert outcome.error == 'HTTP 404: {"message": "Unknown Webhook", "code": 10015}'


# ---- Microsoft Teams -------------------------------------------------------------------------


async def test_teams_gets_an_adaptive_card_valid_under_the_published_schema(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(teams_like())
    loaded = chat_config("teams", receiver.url(TEAMS_PATH + TEAMS_QUERY))
    outcome = await send(incident_message("team-teams"), loaded)
    assert outcome.ok, outcome.error
    assert outcome.status_code == 202
    request = receiver.requests[0]
    assert (request.method, request.path) == ("POST", TEAMS_PATH + TEAMS_QUERY)
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert card_problem(body) is None
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    title, summary, facts, footer = card["body"]
    assert title["type"] == "TextBlock"
    assert title["text"] == "[DOWN] Public API — expected status 200, got 503"
    assert (title["weight"], title["color"]) == ("Bolder", "Attention")
    assert summary["text"].startswith("Public API is DOWN: expected status 200, got 503")
    assert facts["type"] == "FactSet"
    assert facts["facts"][0] == {"title": "Monitor", "value": "Public API (Core services)"}
    assert [f["title"] for f in facts["facts"]] == [
        "Monitor",
        "Severity",
        "State",
        "Cause",
        "Since",
        "Duration",
        "Told",
    ]
    assert footer["text"] == "upwatch · incident #42 · policy critical, step 1"
    assert [(a["type"], a["title"], a["url"]) for a in card["actions"]] == [
        ("Action.OpenUrl", "Acknowledge", ACK_URL),
        ("Action.OpenUrl", "Status page", PAGE_URL),
    ]


async def test_teams_cards_stay_within_28_kb_and_escape_markdown(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(teams_like())
    loaded = chat_config("teams", receiver.url(TEAMS_PATH + TEAMS_QUERY))
    outcome = await send(hostile_message("team-teams"), loaded)
    assert outcome.ok, outcome.error  # the receiver answers 400 to an invalid or oversized card
    body = receiver.requests[0].json()
    assert len(receiver.requests[0].body) <= 28_000
    card = body["attachments"][0]["content"]
    assert [a["title"] for a in card["actions"]] == ["Acknowledge", "Status page"]
    summary = card["body"][1]["text"]
    assert r"\*\*bold\*\* [click]\(https://evil.test) \`x\`" in summary
    assert 0 < len(card["body"][2]["facts"]) <= 25


@pytest.mark.parametrize(
    ("mode", "status", "permanent", "delay"),
    [("throttled", 429, False, timedelta(seconds=20)), ("gone", 404, True, None)],
)
async def test_teams_throttling_is_retried_after_retry_after_and_a_deleted_flow_is_permanent(
    http_receivers: MakeReceiver,
    send: Any,
    mode: str,
    status: int,
    permanent: bool,
    delay: timedelta | None,
) -> None:
    receiver = http_receivers(teams_like(mode))
    loaded = chat_config("teams", receiver.url(TEAMS_PATH + TEAMS_QUERY))
    outcome = await send(incident_message("team-teams"), loaded)
    assert (outcome.ok, outcome.status_code, outcome.permanent) == (False, status, permanent)
    assert outcome.retry_after == delay


# ---- Google Chat -----------------------------------------------------------------------------


async def test_google_chat_gets_a_text_message_with_bold_subject_facts_and_links(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(google_chat_like())
    loaded = chat_config("google_chat", receiver.url(CHAT_PATH + CHAT_QUERY))
    outcome = await send(incident_message("team-google_chat"), loaded)
    assert outcome.ok, outcome.error
    assert outcome.status_code == 200
    request = receiver.requests[0]
    assert (request.method, request.path) == ("POST", CHAT_PATH + CHAT_QUERY)
    assert request.headers["content-type"] == "application/json; charset=UTF-8"
    assert request.json() == {
        "text": "*[DOWN] Public API — expected status 200, got 503*\n"
        "Public API is DOWN: expected status 200, got 503\n"
        "Acknowledge to stop the escalation and the reminders.\n"
        "\n"
        "*Monitor:* Public API (Core services)\n"
        "*Severity:* critical\n"
        "*State:* DOWN\n"
        "*Cause:* expected status 200, got 503\n"
        "*Since:* 2026-11-22 07:58 UTC\n"
        "*Duration:* 2m\n"
        "*Told:* team-slack, oncall-email\n"
        "\n"
        f"<{ACK_URL}|Acknowledge> · <{PAGE_URL}|Status page>\n"
        "_upwatch · incident #42 · policy critical, step 1_"
    }


async def test_google_chat_text_stays_within_4096_characters_and_mentions_no_one(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(google_chat_like())
    loaded = chat_config("google_chat", receiver.url(CHAT_PATH + CHAT_QUERY))
    outcome = await send(hostile_message("team-google_chat"), loaded)
    assert outcome.ok, outcome.error
    text = receiver.requests[0].json()["text"]
    assert len(text) <= 4096
    assert "<users/all>" not in text
    assert "<https://e|y>" not in text
    assert "‹users/all›" in text
    # Only our own two links remain links, and they survive the cut.
    assert text.count("<") == 2
    assert f"<{ACK_URL}|Acknowledge> · <{PAGE_URL}|Status page>" in text


@pytest.mark.parametrize(
    ("mode", "status", "permanent"), [("exhausted", 429, False), ("bad_token", 401, True)]
)
async def test_google_chat_quota_answers_are_retried_and_a_revoked_token_is_permanent(
    http_receivers: MakeReceiver, send: Any, mode: str, status: int, permanent: bool
) -> None:
    receiver = http_receivers(google_chat_like(mode))
    loaded = chat_config("google_chat", receiver.url(CHAT_PATH + CHAT_QUERY))
    outcome = await send(incident_message("team-google_chat"), loaded)
    assert (outcome.ok, outcome.status_code, outcome.permanent) == (False, status, permanent)


async def test_google_chat_429_waits_as_long_as_retry_after_says(
    http_receivers: MakeReceiver, send: Any
) -> None:
    receiver = http_receivers(nr.always(Reply(429, b"{}", {"Retry-After": "7"})))
    loaded = chat_config("google_chat", receiver.url(CHAT_PATH + CHAT_QUERY))
    outcome = await send(incident_message("team-google_chat"), loaded)
    assert outcome.retry_after == timedelta(seconds=7)


# ---- all three -------------------------------------------------------------------------------

KINDS = {
    "discord": (discord, DISCORD_PATH),
    "teams": (teams, TEAMS_PATH + TEAMS_QUERY),
    "google_chat": (google_chat, CHAT_PATH + CHAT_QUERY),
}
SECRETS = ("Zx9-discord-webhook-token-0001", "T3amsS1gnature0001", "ch4tT0ken-0001")


@pytest.mark.parametrize("kind", list(KINDS))
async def test_errors_never_quote_the_webhook_url(
    http_receivers: MakeReceiver, send: Any, context: SendContext, kind: str
) -> None:
    module, path = KINDS[kind]
    refused = f"http://127.0.0.1:{free_port()}{path}"
    loaded = chat_config(kind, refused)
    channel = loaded.config.channels[f"team-{kind}"]
    raw = await module.send(incident_message(f"team-{kind}"), channel, context)
    assert raw.error == "connection refused"
    # A receiver that quotes the URL back: the dispatcher redacts every part of it.
    echo = http_receivers(lambda request: Reply(400, f"bad hook {request.path}".encode()))
    outcome = await send(incident_message(f"team-{kind}"), chat_config(kind, echo.url(path)))
    assert outcome.permanent
    assert outcome.error is not None
    assert not any(secret in outcome.error for secret in SECRETS)


TEMPLATES = {
    "discord": "discord.txt",
    "teams": "teams.txt",
    "google_chat": "google_chat.txt",
}


@pytest.mark.parametrize("kind", list(KINDS))
async def test_a_user_template_changes_each_channel_s_summary(
    http_receivers: MakeReceiver, send: Any, tmp_path: Path, kind: str
) -> None:
    (tmp_path / TEMPLATES[kind]).write_text("{{ monitor.name }} needs you ({{ state }})")
    (tmp_path / "subject.txt").write_text("{{ tag }}! {{ monitor.name }}")
    replies = {"discord": discord_like(), "teams": teams_like(), "google_chat": google_chat_like()}
    receiver = http_receivers(replies[kind])
    loaded = chat_config(kind, receiver.url(KINDS[kind][1]))
    outcome = await send(incident_message(f"team-{kind}"), loaded, Renderer(tmp_path))
    assert outcome.ok, outcome.error
    body = receiver.requests[0].json()
    if kind == "discord":
        shown = body["embeds"][0]["title"], body["embeds"][0]["description"]
    elif kind == "teams":
        card = body["attachments"][0]["content"]
        shown = card["body"][0]["text"], card["body"][1]["text"]
    else:
        shown = tuple(body["text"].split("\n")[:2])
    subject = "*DOWN! Public API*" if kind == "google_chat" else "DOWN! Public API"
    assert shown[0] == subject
    assert shown[1].startswith("Public API needs you (DOWN)")


@pytest.mark.parametrize("kind", list(KINDS))
def test_notify_test_delivers_through_each_chat_channel(
    tmp_path: Path,
    http_receivers: MakeReceiver,
    capsys: pytest.CaptureFixture[str],
    kind: str,
) -> None:
    replies = {"discord": discord_like(), "teams": teams_like(), "google_chat": google_chat_like()}
    receiver = http_receivers(replies[kind])
    document = {
        "version": 1,
        "status_page": {"public_url": "https://status.acme.test"},
        "channels": {f"team-{kind}": {"type": kind, "url": receiver.url(KINDS[kind][1])}},
        "monitors": [{"id": "api", "name": "Public API", "url": "https://api.acme.test/"}],
    }
    config = tmp_path / "monitors.yaml"
    config.write_text(json.dumps(document))

    assert main(["notify-test", f"team-{kind}", "-c", str(config)]) == 0

    out = capsys.readouterr().out
    assert out.startswith(f"ok: test message delivered through team-{kind} ({kind}: HTTP 2")
    assert (
        f"[TEST] upwatch — test notification through team-{kind}"
        in receiver.requests[0].body.decode()
    )
    assert not any(secret in out for secret in SECRETS)


def test_the_chat_channels_are_in_the_registry() -> None:
    from upwatch.notify.channels.registry import CHANNEL_MODELS

    assert CHANNEL_MODELS["discord"] is discord.DiscordChannel
    assert CHANNEL_MODELS["teams"] is teams.TeamsChannel
    assert CHANNEL_MODELS["google_chat"] is google_chat.GoogleChatChannel
