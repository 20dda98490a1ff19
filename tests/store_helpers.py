"""Factories for the store and API contract suites: configs, results at explicit times, and a
running Pipeline + Evaluator on the test database with a clock the test moves by hand.

`Harness` runs the monitoring service's own data path (its `Holdings` reconcile, reload and take;
the pipeline evaluates batches) without the prober, the scheduler or the coordinator, holding
every shard: tests submit `ProbeResult`s with their own `checked_at`, set the clock, flush, and
read rows back. Nothing sleeps.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import ColumnElement, Row, Table, event, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from upwatch.config.loader import LoadedConfig, parse_config
from upwatch.engine.phase import SHARDS
from upwatch.probes.result import ProbeResult, ProbeState
from upwatch.runtime.evaluator import Evaluator
from upwatch.runtime.health import Health
from upwatch.runtime.holdings import Holdings
from upwatch.runtime.pipeline import Observation, Pipeline, checkin_observation
from upwatch.runtime.server import HttpServer
from upwatch.runtime.settings import Settings
from upwatch.store.checkins import HandedCheckin
from upwatch.store.tables import INCIDENTS, MONITORS, OUTBOX, PERIODS, RESULTS, STATES
from upwatch.web.app import create_app
from upwatch.web.context import AppContext

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
UNREACHABLE_DB = "postgresql+asyncpg://postgres@127.0.0.1:1/x"

CHANNELS: dict[str, Any] = {
    "team-slack": {"type": "slack", "webhook_url": "https://hooks.slack.test/services/T1"},
    "oncall-email": {
        "type": "email",
        "smtp_url": "smtp://mail.acme.test:587",
        "from": "upwatch@acme.test",
        "to": ["oncall@acme.test"],
    },
    "pager": {"type": "webhook", "url": "https://hooks.acme.test/upwatch"},
}
ESCALATIONS: dict[str, Any] = {
    "default": [{"after": "0s", "notify": ["team-slack"]}],
    "critical": [
        {"after": "0s", "notify": ["team-slack"]},
        {"after": "2m", "notify": ["oncall-email", "pager"], "repeat_every": "30m"},
    ],
}


def at(hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
    """An instant relative to T0 (2026-11-22 08:00 UTC)."""
    return T0 + timedelta(hours=hours, minutes=minutes, seconds=seconds)


# ---- configs ---------------------------------------------------------------------------------


def http(monitor_id: str, **fields: Any) -> dict[str, Any]:
    """An HTTP monitor as written in monitors.yaml; `fields` override or add keys."""
    return {
        "id": monitor_id,
        "name": monitor_id.replace("-", " ").title(),
        "url": f"https://{monitor_id}.acme.test/health",
        **fields,
    }


def heartbeat(monitor_id: str, token: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": monitor_id,
        "name": monitor_id.replace("-", " ").title(),
        "type": "heartbeat",
        "token": token,
        **fields,
    }


def config(*monitors: dict[str, Any], **sections: Any) -> LoadedConfig:
    """A validated config with the standard channels and escalation policies.

    `sections` add or replace top-level keys (status_page, maintenance, announcements, ...).
    The text is JSON, which is YAML, so it goes through the real loader.
    """
    document = {
        "version": 1,
        "channels": CHANNELS,
        "escalations": ESCALATIONS,
        "monitors": list(monitors),
        **sections,
    }
    text = json.dumps(document, indent=1)
    parsed, secrets = parse_config(text, "monitors.yaml", {}, False)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return LoadedConfig(parsed, "monitors.yaml", digest, frozenset(secrets))


# ---- results ---------------------------------------------------------------------------------


def up(checked_at: datetime, ms: float = 80.0, status_code: int | None = 200) -> ProbeResult:
    return ProbeResult(ProbeState.UP, checked_at, ms / 1000, status_code=status_code)


def degraded(
    checked_at: datetime, ms: float = 900.0, cause: str = "responded in 900ms, expected under 500ms"
) -> ProbeResult:
    return ProbeResult(ProbeState.DEGRADED, checked_at, ms / 1000, cause, cause, status_code=200)


def down(
    checked_at: datetime,
    cause: str = "expected status 200, got 503",
    public_cause: str | None = None,
    ms: float = 30.0,
    status_code: int | None = 503,
) -> ProbeResult:
    public = cause if public_cause is None else public_cause
    return ProbeResult(ProbeState.DOWN, checked_at, ms / 1000, cause, public, status_code)


# ---- the running pipeline ----------------------------------------------------------------------


@dataclass(slots=True)
class Clock:
    """The injected clock: a test sets `now`, the pipeline and the web read it."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


class Harness:
    """The service's data path on a real database: reconcile, submit, flush, restart."""

    def __init__(
        self, engine: AsyncEngine, loaded: LoadedConfig, clock: Clock, *, max_buffer: int
    ) -> None:
        self.engine = engine
        self.loaded = loaded
        self.clock = clock
        self.max_buffer = max_buffer
        self.batch_size = 5_000
        self.evaluator = Evaluator(loaded)
        self.pipeline = self._pipeline()
        self.holdings = self._holdings()

    def _pipeline(self) -> Pipeline:
        return Pipeline(
            self.engine,
            self.evaluator,
            self.clock,
            max_buffer=self.max_buffer,
            batch_size=self.batch_size,
        )

    async def start(self, now: datetime | None = None) -> None:
        """What a (re)started service does: reconcile and take every configured monitor."""
        self._set(now)
        await self.holdings.reconcile(self.loaded)

    async def reload(self, loaded: LoadedConfig, now: datetime | None = None) -> None:
        """SIGHUP with a new config: flush, reconcile, take what is new, switch the config."""
        self._set(now)
        await self.holdings.reload(loaded)
        self.loaded = loaded

    async def restart(self, now: datetime | None = None) -> None:
        """A new process: a fresh Evaluator and Pipeline, resuming from the database alone."""
        self.evaluator = Evaluator(self.loaded)
        self.pipeline = self._pipeline()
        self.holdings = self._holdings()
        await self.start(now)

    def _holdings(self) -> Holdings:
        return Holdings(
            self.engine,
            self.pipeline,
            self.evaluator,
            self.loaded,
            instance="test",
            clock=self.clock,
            held=lambda: set(range(SHARDS)),
        )

    def _set(self, now: datetime | None) -> datetime:
        if now is not None:
            self.clock.now = now
        return self.clock.now

    def submit(self, monitor_id: str, *results: ProbeResult) -> None:
        for result in results:
            self.pipeline.submit(Observation(monitor_id, result))

    def check_in(self, monitor_id: str, at: datetime, ok: bool) -> None:
        """The service's check-in sink, as the web's ping handler calls it."""
        self.pipeline.submit(checkin_observation(HandedCheckin(monitor_id, at, ok)))

    async def flush(self, now: datetime | None = None) -> bool:
        self._set(now)
        return await self.pipeline.flush()

    async def feed(
        self, monitor_id: str, *results: ProbeResult, now: datetime | None = None
    ) -> None:
        """Submit `results` and flush at `now` (default: the last result's time)."""
        self.submit(monitor_id, *results)
        flushed = await self.flush(now or max(r.checked_at for r in results))
        assert flushed, "the database refused the flush"


MakeHarness = Callable[..., Awaitable[Harness]]


@pytest.fixture
def make_harness(engine: AsyncEngine) -> MakeHarness:
    """A factory: `await make_harness(config(...), start=T0)` gives a started Harness."""

    async def make(
        loaded: LoadedConfig, *, start: datetime = T0, max_buffer: int = 200_000
    ) -> Harness:
        harness = Harness(engine, loaded, Clock(start), max_buffer=max_buffer)
        await harness.start()
        return harness

    return make


@contextmanager
def commits_fail(engine: AsyncEngine) -> Iterator[None]:
    """The database accepts every statement and then loses the COMMIT (a failover, a full disk)."""

    def refuse(_connection: Any) -> None:
        raise OperationalError("COMMIT", None, OSError("server closed the connection"))

    event.listen(engine.sync_engine, "commit", refuse)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "commit", refuse)


@contextlib.asynccontextmanager
async def on_uvicorn(app: ASGIApp) -> AsyncIterator[str]:
    """`app` served by the daemon's own HTTP server on 127.0.0.1; yields its base URL."""
    server = HttpServer(app, "127.0.0.1", 0)
    await server.start()
    port = server.server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.stop()


# ---- reading rows back --------------------------------------------------------------------------


async def rows(
    engine: AsyncEngine, table: Table, *where: ColumnElement[bool], order: Any = None
) -> list[Row[Any]]:
    query = select(table).where(*where)
    if order is not None:
        query = query.order_by(order)
    async with engine.connect() as connection:
        return list(await connection.execute(query))


async def incidents(engine: AsyncEngine, monitor_id: str | None = None) -> list[Row[Any]]:
    where = [] if monitor_id is None else [INCIDENTS.c.monitor_id == monitor_id]
    return await rows(engine, INCIDENTS, *where, order=INCIDENTS.c.id)


async def outbox(engine: AsyncEngine, *where: ColumnElement[bool]) -> list[Row[Any]]:
    return await rows(engine, OUTBOX, *where, order=OUTBOX.c.id)


async def sent(engine: AsyncEngine) -> list[tuple[str, str]]:
    """(event, channel) of every outbox row not cancelled, in enqueue order."""
    return [(r.event, r.channel) for r in await outbox(engine, OUTBOX.c.cancelled_at.is_(None))]


async def keys(engine: AsyncEngine) -> list[str]:
    return [r.key for r in await outbox(engine)]


async def state(engine: AsyncEngine, monitor_id: str) -> Row[Any]:
    found = await rows(engine, STATES, STATES.c.monitor_id == monitor_id)
    assert found, f"no state row for {monitor_id}"
    return found[0]


async def monitor(engine: AsyncEngine, monitor_id: str) -> Row[Any]:
    found = await rows(engine, MONITORS, MONITORS.c.id == monitor_id)
    assert found, f"no monitor row for {monitor_id}"
    return found[0]


async def results(engine: AsyncEngine, monitor_id: str) -> list[Row[Any]]:
    where = RESULTS.c.monitor_id == monitor_id
    return await rows(engine, RESULTS, where, order=RESULTS.c.checked_at)


async def periods(engine: AsyncEngine, monitor_id: str) -> list[Row[Any]]:
    return await rows(engine, PERIODS, PERIODS.c.monitor_id == monitor_id, order=PERIODS.c.id)


async def mark_delivered(engine: AsyncEngine, when: datetime, *channels: str) -> None:
    """What the outbox worker does after a 2xx: the message counts as sent."""
    statement = update(OUTBOX).where(OUTBOX.c.delivered_at.is_(None))
    if channels:
        statement = statement.where(OUTBOX.c.channel.in_(channels))
    async with engine.begin() as connection:
        await connection.execute(statement.values(attempts=1, delivered_at=when))


async def claim(engine: AsyncEngine, channel: str, *, until: datetime) -> None:
    """What the outbox worker does before sending: a lease on the channel's pending rows."""
    statement = update(OUTBOX).where(OUTBOX.c.channel == channel, OUTBOX.c.delivered_at.is_(None))
    async with engine.begin() as connection:
        await connection.execute(statement.values(claimed_until=until, claimed_by="worker"))


async def acknowledge(engine: AsyncEngine, incident_id: int, when: datetime) -> None:
    """What the web's acknowledge handler writes."""
    statement = update(INCIDENTS).where(INCIDENTS.c.id == incident_id)
    async with engine.begin() as connection:
        await connection.execute(statement.values(acknowledged_at=when, acknowledged_by="test"))


# ---- the web app ----------------------------------------------------------------------------


def app_context(harness: Harness) -> AppContext:
    """The web's context on the harness's database, config and clock; check-ins go to it."""
    settings = Settings.from_env({"UPWATCH_INSTANCE": "test"})
    health = Health(config_loaded=True, migrated=True)
    return AppContext(
        settings,
        health,
        harness.loaded,
        engine=harness.engine,
        checkins=harness,
        clock=harness.clock,
        state_version=lambda: harness.evaluator.version,
    )


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """A factory of HTTP clients talking to `create_app` in-process, closed after the test;
    `api_token` sets the app's UPWATCH_API_TOKEN."""
    opened: list[httpx.AsyncClient] = []

    def make(harness: Harness, *, api_token: str | None = None) -> httpx.AsyncClient:
        ctx = app_context(harness)
        if api_token is not None:
            ctx.settings = dataclasses.replace(ctx.settings, api_token=api_token)
        transport = httpx.ASGITransport(app=create_app(ctx))
        client = httpx.AsyncClient(transport=transport, base_url="http://status.acme.test")
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()
