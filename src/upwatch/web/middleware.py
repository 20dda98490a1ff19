"""ASGI middleware every response passes through: security headers and a redacting access log."""

from __future__ import annotations

import re
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (
        b"content-security-policy",
        # connect-src 'self': no script here fetches anything, but crawlers' audits (Lighthouse)
        # read /robots.txt from inside the page.
        b"default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
]
# Heartbeat tokens and acknowledge tokens are credentials: never in the access log.
_SECRET_PATHS = (
    (re.compile(r"^(/ping/[^/]+/)[^/]+"), r"\1[token]"),
    (re.compile(r"^(/ack/)[^/]+"), r"\1[token]"),
    (re.compile(r"^(/subscribe/confirm/|/unsubscribe/)[^/]+"), r"\1[token]"),
)
log = structlog.get_logger("upwatch.http")


MAX_LOGGED_PATH = 300  # a 100 KB path is logged as its start, not as 100 KB per request


def redact_path(path: str) -> str:
    for pattern, replacement in _SECRET_PATHS:
        path = pattern.sub(replacement, path)
    return path if len(path) <= MAX_LOGGED_PATH else path[:MAX_LOGGED_PATH] + "..."


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AccessLog:
    """One log line per request, with secret path parts replaced (uvicorn's own log is off).

    It sits outside Starlette's error middleware, which answers a bug with a 500 and then
    re-raises it: here the bug is logged once, with its traceback, and goes no further (the
    server would log it again, without the redaction).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        path = redact_path(scope.get("path", ""))
        try:
            await self.app(scope, receive, record_status)
        except Exception:
            log.exception("error while answering a request", method=scope.get("method"), path=path)
            if status is None:  # nothing sent yet: the client still gets an answer
                await _internal_error(send)
                status = 500
        finally:
            log.debug(
                "request",
                method=scope.get("method"),
                path=path,
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )


async def _internal_error(send: Send) -> None:
    body = b"internal error: upwatch could not answer this request\n"
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"%d" % len(body)),
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})
