"""Email subscriptions: `POST /subscribe`, `GET|POST /subscribe/confirm/{token}`,
`GET|POST /unsubscribe/{token}`.

Double opt-in: subscribing stores the address as pending and enqueues a confirmation mail whose
signed link confirms it. GET links only show a button (mail scanners fetch every link); POST
acts. `POST /unsubscribe/{token}` is RFC 8058's one-click target, so it needs no form field.

The answer to `POST /subscribe` is the same whether the address is new, pending or subscribed
already (nobody learns who subscribes), and no page, log line or error ever shows an address.
Each client address may ask 5 times an hour, counted in the database so that every worker and
instance shares the count (`store/subscribe_requests.py`, a keyed hash of the address kept for
the hour); each process's own count (`AppContext.subscribe_limit`) turns a flood away before it
costs a write.
The client address is the socket peer as uvicorn reports it (uvicorn takes X-Forwarded-For
only from FORWARDED_ALLOW_IPS, by default 127.0.0.1).
Without `status_page.subscriptions` the subscribe paths are 404; unsubscribing always works.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import structlog
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from upwatch.notify.subscriber_links import (
    CONFIRM_VALID_FOR,
    Expired,
    check_confirm_token,
    check_unsubscribe_token,
)
from upwatch.store import subscribe_requests, subscribers
from upwatch.web.ack import Page, render_page
from upwatch.web.context import AppContext

log = structlog.get_logger("upwatch.subscribe")
MAX_FORM = 2048  # bytes: one address and a little more
# Deliberately loose (the confirmation mail is the real test); no spaces, no header syntax.
_ADDRESS = re.compile(r"[^@\s<>,;:\"'()\[\]\\]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")


def routes() -> list[Route]:
    return [
        Route("/subscribe", subscribe, methods=["POST"]),
        Route("/subscribe/confirm/{token}", confirm, methods=["GET", "POST"]),
        Route("/unsubscribe/{token}", unsubscribe, methods=["GET", "POST"]),
    ]


def _page(heading: str, *paragraphs: str, status: int = 200, tone: str = "ok") -> Page:
    return Page(status, tone, heading, paragraphs, status_page_url="/")


NOT_FOUND = PlainTextResponse("Not Found\n", status_code=404)
CHECK_INBOX = _page(
    "Check your inbox",
    "If that address can subscribe, a message with a confirmation link is on its way. "
    "Open it and press Confirm; nothing is sent to you until then.",
)
BAD_ADDRESS = _page(
    "That is not an email address",
    "Go back and type the address as name@example.com.",
    status=400,
    tone="error",
)
INVALID_LINK = _page(
    "This link is not valid",
    "It may have been cut short or changed on the way. Open the link from the message again "
    "(all of it).",
    status=403,
    tone="error",
)
NOT_SET_UP = _page(
    "Subscriptions are not available",
    "This status page cannot send mail yet (its operator has to set UPWATCH_SECRET_KEY and "
    "status_page.public_url). Please try again later.",
    status=503,
    tone="warn",
)
STARTING = _page("upwatch is starting", "Try again in a moment.", status=503, tone="warn")


def _ready(ctx: AppContext) -> Page | None:
    if ctx.settings.secret_key is None or ctx.loaded.config.status_page.public_url is None:
        return NOT_SET_UP
    return STARTING if ctx.engine is None else None


async def subscribe(request: Request) -> Response:
    ctx: AppContext = request.app.state.ctx
    if ctx.loaded.config.status_page.subscriptions is None:
        return NOT_FOUND
    client = request.client.host if request.client is not None else "unknown"
    wait = ctx.subscribe_limit.allow(client)
    if wait is not None:
        return _too_many(wait)
    problem = _ready(ctx)
    if problem is not None:
        return render_page(problem)
    assert ctx.engine is not None
    assert ctx.settings.secret_key is not None  # _ready said so
    now = ctx.clock()
    key = subscribe_requests.client_key(client, ctx.settings.secret_key)
    async with ctx.engine.begin() as connection:
        shared = await subscribe_requests.allow(connection, key, now)
    if shared is not None:
        return _too_many(shared.total_seconds())
    address = await _address(request)
    if address is None:
        return render_page(BAD_ADDRESS)
    async with ctx.engine.begin() as connection:
        subscriber_id = await subscribers.subscribe(connection, address, now)
        if subscriber_id is not None:
            await subscribers.enqueue_confirmation(connection, subscriber_id, now)
    log.info("subscription requested")  # no address, no id: nothing to tell people apart
    return render_page(CHECK_INBOX)


def _too_many(wait: float) -> Response:
    minutes = max(1, round(wait / 60))
    page = _page(
        "Too many requests",
        f"This connection asked to subscribe too often. Try again in about {minutes} minutes.",
        status=429,
        tone="error",
    )
    response = render_page(page)
    response.headers["Retry-After"] = str(max(1, int(wait)))
    return response


async def _address(request: Request) -> str | None:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            return None
    try:
        fields = parse_qs(body.decode("ascii"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return None
    values = fields.get("email") or [""]
    address = values[0].strip().lower()
    return address if len(address) <= 254 and _ADDRESS.fullmatch(address) else None


async def confirm(request: Request) -> Response:
    ctx: AppContext = request.app.state.ctx
    checked = _confirming(ctx, request.path_params["token"])
    if not isinstance(checked, int):
        return checked
    if request.method != "POST":
        return render_page(
            _page("Confirm your subscription", "Press Confirm to get incident news by email."),
            button="Confirm",
        )
    assert ctx.engine is not None
    async with ctx.engine.begin() as connection:
        done = await subscribers.confirm(connection, checked, ctx.clock())
    if not done:
        return render_page(NOTHING_TO_CONFIRM)
    log.info("subscription confirmed")
    return render_page(SUBSCRIBED)


def _confirming(ctx: AppContext, token: str) -> int | Response:
    """The subscriber a confirm link names, or the answer when there is none."""
    if ctx.loaded.config.status_page.subscriptions is None:
        return NOT_FOUND
    problem = _ready(ctx)
    if problem is not None:
        return render_page(problem)
    assert ctx.settings.secret_key is not None
    try:
        subscriber_id = check_confirm_token(ctx.settings.secret_key, token, ctx.clock())
    except Expired:
        return render_page(EXPIRED)
    return render_page(INVALID_LINK) if subscriber_id is None else subscriber_id


EXPIRED = _page(
    "This confirmation link has expired",
    f"Confirmation links work for {int(CONFIRM_VALID_FOR.total_seconds() // 3600)} hours. "
    "Subscribe again on the status page to get a new one.",
    status=403,
    tone="error",
)
NOTHING_TO_CONFIRM = _page(
    "Nothing to confirm",
    "This subscription was cancelled since the link was sent. Subscribe again on the status "
    "page if you want incident news.",
    status=409,
    tone="warn",
)
SUBSCRIBED = _page(
    "Subscribed",
    "You will get an email when an incident starts and when it is resolved. Every message "
    "has a link to unsubscribe.",
)


async def unsubscribe(request: Request) -> Response:
    ctx: AppContext = request.app.state.ctx
    secret_key = ctx.settings.secret_key
    if secret_key is None:
        return render_page(INVALID_LINK)
    subscriber_id = check_unsubscribe_token(secret_key, request.path_params["token"])
    if subscriber_id is None:
        return render_page(INVALID_LINK)
    if request.method != "POST":
        return render_page(
            _page("Unsubscribe", "Press Unsubscribe to stop incident emails."),
            button="Unsubscribe",
        )
    if ctx.engine is None:
        return render_page(STARTING)
    async with ctx.engine.begin() as connection:
        await subscribers.unsubscribe(connection, subscriber_id, ctx.clock())
    log.info("unsubscribed")
    return render_page(_page("Unsubscribed", "You will get no more incident emails from us."))
