"""Delivery rules as tables: how HTTP answers are judged, Retry-After, backoff and giving up."""

from __future__ import annotations

import random
from datetime import timedelta

import httpx
import pytest

from tests.notify_receivers import T0
from upwatch.notify.backoff import GIVE_UP_AFTER, MAX_DELAY, delay, next_attempt
from upwatch.notify.channels.email_api import Mail, send_api
from upwatch.notify.channels.http import describe_error, judge, retry_after, url_secrets
from upwatch.notify.links import TokenProblem, ack_token, check_ack_token


@pytest.mark.parametrize(
    ("status", "ok", "permanent"),
    [
        (200, True, False),
        (202, True, False),
        (204, True, False),
        (301, False, False),
        (400, False, True),
        (401, False, True),
        (403, False, True),
        (404, False, True),
        (410, False, True),
        (422, False, True),
        (408, False, False),
        (429, False, False),
        (500, False, False),
        (502, False, False),
        (503, False, False),
    ],
)
def test_http_answers_are_delivered_retried_or_permanent(
    status: int, ok: bool, permanent: bool
) -> None:
    outcome = judge(status, {}, b"", T0)
    assert (outcome.ok, outcome.permanent) == (ok, permanent)


def test_an_error_answer_is_quoted_briefly_on_one_line() -> None:
    outcome = judge(400, {}, b"invalid_blocks\n" + b"x" * 5000, T0)
    assert outcome.error is not None
    assert outcome.error.startswith("HTTP 400: invalid_blocks x")
    assert len(outcome.error) < 220


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("120", timedelta(seconds=120)),
        ("0", timedelta(0)),
        ("Sun, 22 Nov 2026 08:05:00 GMT", timedelta(minutes=5)),
        ("Sun, 22 Nov 2026 07:00:00 GMT", timedelta(0)),  # in the past: now
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(header: str | None, wait: timedelta) -> None:
    assert retry_after(header, T0) == wait


def test_a_503_with_retry_after_is_honoured_too() -> None:
    outcome = judge(503, {"retry-after": "42"}, b"", T0)
    assert outcome.retry_after == timedelta(seconds=42)


def test_backoff_starts_at_ten_seconds_doubles_and_is_capped() -> None:
    rng = random.Random(1)
    waits = [delay(n, rng).total_seconds() for n in range(1, 12)]
    nominal = [min(10 * 2 ** (n - 1), 1800) for n in range(1, 12)]
    for wait, expected in zip(waits, nominal, strict=True):
        assert expected * 0.8 <= wait <= expected * 1.2
    assert delay(50, rng) <= MAX_DELAY * 1.2


def test_a_retry_after_replaces_the_backoff() -> None:
    at = next_attempt(
        attempts=1, created_at=T0, now=T0, retry_after=timedelta(minutes=3), rng=random.Random()
    )
    assert at == T0 + timedelta(minutes=3)


def test_nothing_is_tried_after_24_hours() -> None:
    rng = random.Random()
    late = T0 + GIVE_UP_AFTER - timedelta(seconds=5)
    assert next_attempt(attempts=50, created_at=T0, now=late, retry_after=None, rng=rng) == (
        T0 + GIVE_UP_AFTER
    )
    end = T0 + GIVE_UP_AFTER
    assert next_attempt(attempts=51, created_at=T0, now=end, retry_after=None, rng=rng) is None


def test_network_errors_are_described_without_the_url() -> None:
    url = "https://hooks.slack.test/services/T/B/secret"
    refused = httpx.ConnectError(f"failed to reach {url}")
    refused.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert describe_error(refused) == "connection refused"
    assert describe_error(httpx.ReadError(f"oops {url}")) == "request failed (ReadError)"


def test_the_secret_parts_of_a_channel_url() -> None:
    found = url_secrets(
        "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX?token=abcdefgh"
    )
    assert "/services/T000/B000/XXXXXXXXXXXXXXXX" in found
    assert "XXXXXXXXXXXXXXXX" in found
    assert "token=abcdefgh" in found
    assert "/" not in found


def test_ack_tokens_name_one_incident_and_expire() -> None:
    token = ack_token("key", 42, T0 + timedelta(days=7))
    assert check_ack_token("key", token, T0).incident_id == 42
    expired = check_ack_token("key", token, T0 + timedelta(days=7))
    assert expired.problem is TokenProblem.EXPIRED
    incident, expires, signature = token.split(".")
    for tampered in (
        f"43.{expires}.{signature}",
        f"{incident}.{int(expires) + 86400}.{signature}",
        f"{incident}.{expires}.{signature[:-2]}AA",
        "garbage",
        "1.2",
    ):
        assert check_ack_token("key", tampered, T0).problem is TokenProblem.INVALID
    assert check_ack_token("another key", token, T0).problem is TokenProblem.INVALID


@pytest.mark.parametrize(
    ("provider", "url"),
    [
        ("resend", "https://api.resend.com/emails"),
        ("postmark", "https://api.postmarkapp.com/email"),
        ("sendgrid", "https://api.sendgrid.com/v3/mail/send"),
    ],
)
async def test_an_email_api_without_api_base_posts_to_the_providers_own_host(
    provider: str, url: str
) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200)

    mail = Mail(
        "upwatch@acme.test", ("oncall@acme.test",), "[TEST] upwatch", "text", "<p>html</p>", {}
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        outcome = await send_api(http, provider, "key-0123456789abcdef", mail, now=T0)
    assert outcome.ok
    assert seen == [url]
