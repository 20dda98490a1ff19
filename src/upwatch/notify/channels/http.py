"""HTTP POSTs for the HTTP channels, judged the same way for all of them.

2xx is delivered (and never retried). 408, 429, 5xx and anything odd are retried; 429 and 503
may say when with `Retry-After` (seconds or an HTTP date). Any other 4xx is permanent: the
receiver understood us and said no (a revoked Slack webhook answers 404 `no_service`).
Errors never quote the URL: a webhook URL is a credential.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from upwatch.notify.outcome import Outcome
from upwatch.notify.text import clip, one_line

if TYPE_CHECKING:
    import httpx

RETRYABLE_4XX = frozenset({408, 429})
MAX_ERROR_BODY = 4096  # bytes of an error answer read to explain it
SHOWN_ERROR_BODY = 200  # characters of it kept in the attempt's error
# How an answer becomes an Outcome: (status, headers, body, now).
Judge = Callable[[int, Mapping[str, str], bytes, datetime], Outcome]


def url_secrets(url: str) -> set[str]:
    """The parts of a channel URL that may be its credential: a Slack webhook's secret is its
    path, other services put tokens in a path segment, the query or the userinfo."""
    parts = urlsplit(url)
    found = {url, parts.path, parts.query, parts.password or ""}
    found.update(segment for segment in parts.path.split("/") if len(segment) >= 12)
    return {s for s in found if len(s) >= 8}


async def post(
    http: httpx.AsyncClient,
    url: str,
    content: bytes,
    headers: Mapping[str, str],
    now: datetime,
    *,
    judged_by: Judge | None = None,
) -> Outcome:
    """POST `content`; the answer is judged by `judge()` unless a vendor's rules say otherwise
    (`judged_by`: Telegram's 429 names its delay in the body, not in `Retry-After`)."""
    # httpx is imported here, not with the module: the config models load every channel module
    # (registry.py), and commands that never send (check, probe) should not pay for it.
    import httpx

    try:
        async with http.stream("POST", url, content=content, headers=dict(headers)) as response:
            body = await _read_some(response)
    except httpx.TimeoutException:
        return Outcome.retry("timed out waiting for the receiver")
    except httpx.HTTPError as exc:
        return Outcome.retry(describe_error(exc))
    return (judged_by or judge)(response.status_code, response.headers, body, now)


async def _read_some(response: httpx.Response) -> bytes:
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= MAX_ERROR_BODY:
            break
    return body[:MAX_ERROR_BODY]


def judge(status: int, headers: Mapping[str, str], body: bytes, now: datetime) -> Outcome:
    if 200 <= status < 300:
        return Outcome.delivered(status, f"HTTP {status}")
    said = one_line(body.decode("utf-8", "replace"))
    error = f"HTTP {status}" + (f": {clip(said, SHOWN_ERROR_BODY)}" if said else "")
    if 400 <= status < 500 and status not in RETRYABLE_4XX:
        return Outcome.give_up(error, status)
    return Outcome.retry(error, status, retry_after(headers.get("retry-after"), now))


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After` as a delay: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


# What a network failure's underlying error means to a person (never the URL).
_CAUSES: tuple[tuple[type[BaseException], str], ...] = (
    (ssl.SSLError, "TLS handshake with the receiver failed"),
    (ConnectionRefusedError, "connection refused"),
    (socket.gaierror, "host name not found"),
    (ConnectionResetError, "the receiver reset the connection"),
)


@cache
def _kinds() -> tuple[tuple[type[BaseException], str], ...]:
    import httpx

    return (
        (httpx.RemoteProtocolError, "the receiver closed the connection without a valid answer"),
        (httpx.ConnectError, "could not connect to the receiver"),
        (httpx.UnsupportedProtocol, "the channel's URL is not a valid http(s) URL"),
        (httpx.InvalidURL, "the channel's URL is not a valid http(s) URL"),
    )


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found and len(found) < 10:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def network_cause(
    exc: BaseException, kinds: tuple[tuple[type[BaseException], str], ...] = _CAUSES
) -> str | None:
    """What went wrong underneath `exc` (refused, unknown host, TLS), in words."""
    chain = _chain(exc)
    for kind, words in kinds:
        if any(isinstance(e, kind) for e in chain):
            return words
    return None


def describe_error(exc: BaseException) -> str:
    """A network failure in words, without the URL (httpx's messages may quote it)."""
    words = network_cause(exc, (*_CAUSES, *_kinds()))
    if words is not None:
        return words
    if "refused" in str(exc).lower():
        return "connection refused"
    return f"request failed ({type(exc).__name__})"
