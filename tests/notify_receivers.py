"""Real receivers on 127.0.0.1 for the notification tests, and small factories around them.

- `HttpReceiver`: an HTTP/1.1 server whose answer is scripted per request (`reply`), recording
  every request. It plays Slack, the three email APIs and webhook consumers.
- `slack_like`: Slack's incoming-webhook behaviour, including its block limits.
- `SmtpServer`: aiosmtpd in its own thread: plain, STARTTLS (a trustme certificate), AUTH
  (offered only after STARTTLS), implicit TLS, or one that accepts and never says a word.
- `Clock`, `notify_config`, `seed_incident`, `seed_notice`, `make_worker`: the worker's world on
  the real test database, with a clock the test moves by hand.

HTTP receivers run on the probe tests' server thread (`server_thread`: an event loop in a
background thread), so they answer async tests and `upwatch.cli.main` (`asyncio.run`) alike.
Test modules re-export the fixtures they use (`http_receivers = notify_receivers.http_receivers`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.probe_servers import LoopThread, read_http_request
from upwatch.config.loader import LoadedConfig, parse_config
from upwatch.engine.context import policy_steps
from upwatch.engine.escalation import due_notices
from upwatch.engine.model import EscalationProgress, EventType, Incident, Notice
from upwatch.engine.payload import incident_data
from upwatch.notify.message import Message, MonitorInfo, message_from_payload
from upwatch.notify.worker import DeliveryWorker
from upwatch.store.incidents import insert_incident
from upwatch.store.monitors import reconcile
from upwatch.store.outbox import enqueue
from upwatch.store.tables import ATTEMPTS, OUTBOX

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SECRET_KEY = "test-secret-key-for-acknowledge-links"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SMTP_USER, SMTP_PASSWORD = "alerts@acme.test", "s3cret-smtp-pa55"
# The incident the channel tests render: api, down since 2 minutes before T0, confirmed at T0.
INCIDENT = Incident(
    "api",
    started_at=T0 - timedelta(minutes=2),
    confirmed_at=T0,
    cause="expected status 200, got 503",
    id=42,
    policy_name="critical",
)
ACK_URL = "https://status.acme.test/ack/42.1797000000.c2lnbmF0dXJl"
PAGE_URL = "https://status.acme.test/monitors/api"


def incident_message(
    channel: str = "team-slack",
    event: EventType = EventType.INCIDENT_OPENED,
    *,
    incident: Incident = INCIDENT,
    name: str = "Public API",
    ack_url: str | None = ACK_URL,
    at: datetime = T0,
    repeat: int = 0,
    told: tuple[str, ...] = ("team-slack", "oncall-email"),
) -> Message:
    """A message about `incident` as the worker composes it for `channel`."""
    return message_from_payload(
        key=f"incident:{incident.id}:{event}:0:{repeat}:{channel}",
        event=str(event),
        channel=channel,
        at=at,
        payload=incident_data(incident, at, step=0, repeat=repeat),
        monitor=MonitorInfo("api", name, "Core services"),
        told=told,
        status_page_url=PAGE_URL,
        ack_url=ack_url,
    )


# ---- HTTP ------------------------------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    stall: bool = False  # read the request, then never answer


Script = Callable[[Received], Reply]


def always(reply: Reply) -> Script:
    return lambda _request: reply


class HttpReceiver:
    """One HTTP server on 127.0.0.1; `reply` decides each answer, `requests` records them."""

    def __init__(self, thread: LoopThread, reply: Script | None = None) -> None:
        self.thread = thread
        self.reply: Script = reply or always(Reply())
        self.requests: list[Received] = []
        self._server = thread.run(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port: int = self._server.sockets[0].getsockname()[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()

        self.thread.run(stop())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await _read(reader)
            self.requests.append(request)
            answer = self.reply(request)
            if answer.stall:
                await reader.read()
                return
            head = {"Content-Length": str(len(answer.body)), "Connection": "close"}
            lines = [f"HTTP/1.1 {answer.status} Scripted"]
            lines += [f"{k}: {v}" for k, v in {**head, **answer.headers}.items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + answer.body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def _read(reader: asyncio.StreamReader) -> Received:
    return Received(*await read_http_request(reader))


def slack_problem(document: Any) -> str | None:
    """What Slack would say about a payload: None when it is acceptable.

    https://api.slack.com/reference/block-kit/blocks
    """
    blocks = document.get("blocks", [])
    if not isinstance(document.get("text"), str) or len(blocks) > 50:
        return "invalid_blocks"
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if block["type"] == "header" and len(text) > 150:
            return "invalid_blocks"
        if len(text) > 3000 or len(block.get("fields", [])) > 10:
            return "invalid_blocks"
        if any(len(f["text"]) > 2000 for f in block.get("fields", [])):
            return "invalid_blocks"
        for element in block.get("elements", []):
            if element.get("type") == "button" and len(element["text"]["text"]) > 75:
                return "invalid_blocks"
    return None


def slack_like(mode: Callable[[], str] | str = "ok", retry_after: str = "30") -> Script:
    """Slack's incoming webhook: `ok`, `no_service` (404), `invalid_token` (403),
    `invalid_blocks` (400), `rate_limited` (429 + Retry-After), `down` (503). A payload
    breaking Slack's limits gets 400 invalid_blocks whatever the mode."""

    def reply(request: Received) -> Reply:
        current = mode() if callable(mode) else mode
        problem = slack_problem(request.json())
        if problem is not None or current == "invalid_blocks":
            return Reply(400, b"invalid_blocks")
        statuses = {"ok": 200, "no_service": 404, "invalid_token": 403, "down": 503}
        if current == "rate_limited":
            return Reply(429, b"rate_limited", {"Retry-After": retry_after})
        return Reply(statuses[current], current.encode())

    return reply


@pytest.fixture
def http_receivers(server_thread: LoopThread) -> Iterator[Callable[..., HttpReceiver]]:
    """A factory: `http_receivers(script)` starts a receiver, closed after the test."""
    made: list[HttpReceiver] = []

    def make(reply: Script | None = None) -> HttpReceiver:
        receiver = HttpReceiver(server_thread, reply)
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()


# ---- SMTP ------------------------------------------------------------------------------------


class Mailbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.tls: list[bool] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        implicit = server.transport.get_extra_info("ssl_object") is not None
        self.tls.append(implicit or session.ssl is not None)
        return "250 2.0.0 queued"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class SmtpServer:
    controller: Controller
    mailbox: Mailbox
    port: int

    def url(self, scheme: str = "smtp", credentials: bool = False) -> str:
        auth = f"{SMTP_USER.replace('@', '%40')}:{SMTP_PASSWORD}@" if credentials else ""
        return f"{scheme}://{auth}127.0.0.1:{self.port}"


def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    """What the sender gets as its `smtp_tls` test hook: trusts the test CA."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def smtp_servers(test_ca: trustme.CA) -> Iterator[Callable[[str], SmtpServer]]:
    """`smtp_servers(kind)`: kind is plain, starttls, auth (STARTTLS + AUTH after it),
    auth-no-tls (AUTH without STARTTLS on offer) or smtps (implicit TLS)."""
    started: list[Controller] = []

    def make(kind: str) -> SmtpServer:
        mailbox, port = Mailbox(), free_port()
        options: dict[str, Any] = {"hostname": "127.0.0.1", "port": port}
        if kind in ("starttls", "auth"):
            options["tls_context"] = server_tls(test_ca)
        if kind == "auth":
            options.update(authenticator=_authenticate, auth_require_tls=True)
        if kind == "auth-no-tls":
            options.update(authenticator=_authenticate, auth_require_tls=False)
        if kind == "smtps":
            options["ssl_context"] = server_tls(test_ca)
        controller = Controller(mailbox, **options)
        controller.start()
        started.append(controller)
        return SmtpServer(controller, mailbox, port)

    yield make
    for controller in started:
        controller.stop()


@pytest.fixture
def stalling_port(server_thread: LoopThread) -> Iterator[int]:
    """A port that accepts connections and then says nothing at all (no SMTP greeting)."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = server_thread.run(asyncio.start_server(silent, "127.0.0.1", 0))
    yield server.sockets[0].getsockname()[1]

    async def stop() -> None:
        server.close()

    server_thread.run(stop())


# ---- the worker's world ------------------------------------------------------------------------


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def notify_config(
    channels: dict[str, Any],
    *,
    escalations: dict[str, Any] | None = None,
    monitors: list[dict[str, Any]] | None = None,
    **sections: Any,
) -> LoadedConfig:
    """A validated config (through the real loader); every channel is in the `critical` policy's
    first step unless `escalations` says otherwise."""
    document = {
        "version": 1,
        "status_page": {"public_url": "https://status.acme.test"},
        "channels": channels,
        "escalations": escalations or {"critical": [{"after": "0s", "notify": list(channels)}]},
        "monitors": monitors
        or [
            {
                "id": "api",
                "name": "Public API",
                "group": "Core services",
                "url": "https://api.acme.test/health",
                "escalation": "critical",
            }
        ],
        **sections,
    }
    text = json.dumps(document)
    parsed, secrets = parse_config(text, "monitors.yaml", {}, False)
    return LoadedConfig(
        parsed, "monitors.yaml", hashlib.sha256(text.encode()).hexdigest(), frozenset(secrets)
    )


async def seed_incident(
    engine: AsyncEngine,
    loaded: LoadedConfig,
    *,
    at: datetime = T0,
    monitor_id: str = "api",
    cause: str = "expected status 200, got 503",
) -> Incident:
    """A confirmed incident with its first step's messages in the outbox, as the evaluator
    writes them."""
    config = loaded.config
    monitor = config.monitor(monitor_id)
    assert monitor is not None
    policy = policy_steps(config, monitor.escalation_policy)
    incident = Incident(
        monitor_id,
        started_at=at - timedelta(minutes=1),
        confirmed_at=at,
        cause=cause,
        public_cause=cause,
        policy_name=monitor.escalation_policy,
        policy=policy,
    )
    async with engine.begin() as connection:
        await reconcile(connection, config, at)
        incident = replace(incident, id=await insert_incident(connection, incident))
        notices, _ = due_notices(incident, EscalationProgress(), at, in_maintenance=False)
        await enqueue(connection, notices, at)
    return incident


async def seed_notices(engine: AsyncEngine, notices: tuple[Notice, ...], at: datetime) -> None:
    async with engine.begin() as connection:
        await enqueue(connection, notices, at)


def notice(event: EventType, channel: str, at: datetime, **data: Any) -> Notice:
    return Notice(
        event,
        channel,
        "api",
        at=at,
        data={"monitor": {"id": "api"}, "incident": None, "cert_expires_at": None, **data},
    )


async def outbox_rows(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as connection:
        return list(await connection.execute(select(OUTBOX).order_by(OUTBOX.c.id)))


async def attempts(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as connection:
        return list(await connection.execute(select(ATTEMPTS).order_by(ATTEMPTS.c.id)))


@pytest.fixture
async def make_worker(
    engine: AsyncEngine,
) -> AsyncIterator[Callable[..., DeliveryWorker]]:
    """A factory of workers on the test database; `config` is a LoadedConfig or a callable."""
    made: list[DeliveryWorker] = []

    def make(
        config: LoadedConfig | Callable[[], LoadedConfig],
        clock: Callable[[], datetime],
        **options: Any,
    ) -> DeliveryWorker:
        current = config if callable(config) else (lambda: config)
        options.setdefault("secret_key", SECRET_KEY)
        options.setdefault("instance", f"worker-{len(made) + 1}")
        options.setdefault("send_timeout", 5.0)
        options.setdefault("rng", random.Random(7))
        worker = DeliveryWorker(engine, current, clock=clock, **options)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        await worker.aclose()
