"""The delivery worker: sends what the outbox holds, independent of probing.

Its own asyncio task and its own short transactions: claim a due row (an atomic UPDATE, under a
lease), send it with a hard timeout while other rows are sent concurrently, then record the
attempt and the row's fate in one transaction:

- 2xx (or SMTP 250): delivered, never sent again.
- a permanent refusal (4xx other than 408/429, SMTP 5xx, a channel removed from the config):
  failed now, logged at error level, counted, and announced as `channel.failed` through the other
  channels (see `upwatch.notify.failures`).
- anything else: tried again with exponential backoff (a `Retry-After` wins) until 24 h after the
  message was created, then failed and announced like a permanent failure.

A worker killed mid-send leaves its claim to run out; the row is then due again and another worker
(or this one, restarted) sends it. The webhook id and the email Message-ID stay the same, so the
rare duplicate this causes is recognisable.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from upwatch.config.loader import LoadedConfig
from upwatch.config.subscription_needs import subscription_warning
from upwatch.notify import subscriber_mail
from upwatch.notify.backoff import next_attempt
from upwatch.notify.channels.base import SendContext
from upwatch.notify.compose import compose
from upwatch.notify.dispatch import SEND_TIMEOUT, deliver
from upwatch.notify.failures import failure_notices, failure_targets
from upwatch.notify.outcome import Outcome
from upwatch.notify.render import Renderer
from upwatch.runtime.settings import Settings
from upwatch.store import deliveries, subscribers
from upwatch.store.deliveries import Delivery
from upwatch.store.incidents import told_channels
from upwatch.store.outbox import enqueue

log = structlog.get_logger("upwatch.notify")
LEASE = timedelta(seconds=60)
POLL_EVERY = 1.0
MAX_IN_FLIGHT = 16


def http_client() -> httpx.AsyncClient:
    # No redirects: a webhook that moved is a misconfiguration to report, not to follow blindly.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(15.0, connect=10.0),
        follow_redirects=False,
        headers={"User-Agent": "upwatch"},
    )


class DeliveryWorker:
    """Delivers outbox rows; counters (per channel) are for `/metrics`."""

    def __init__(
        self,
        engine: AsyncEngine,
        config: Callable[[], LoadedConfig],
        *,
        secret_key: str | None,
        instance: str,
        clock: Callable[[], datetime],
        http: httpx.AsyncClient | None = None,
        smtp_tls: ssl.SSLContext | None = None,
        lease: timedelta = LEASE,
        send_timeout: float = SEND_TIMEOUT,
        poll_every: float = POLL_EVERY,
        max_in_flight: int = MAX_IN_FLIGHT,
        warn: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        if lease.total_seconds() <= send_timeout:
            raise ValueError("the claim lease must outlast a send, or two workers could send")
        self.engine = engine
        self.config = config  # the running config, read per message (SIGHUP replaces it)
        self.secret_key = secret_key
        self.holder = f"{instance}:notify"
        self.clock = clock
        self.lease = lease
        self.send_timeout = send_timeout
        self.poll_every = poll_every
        self.max_in_flight = max_in_flight
        self.warn = warn  # the start-time warnings about links (one worker says them)
        self.rng = rng or random.Random()  # jitter, not cryptography
        self._http = http
        self._owns_http = http is None
        self._smtp_tls = smtp_tls
        self._renderer: tuple[LoadedConfig, Renderer] | None = None
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.delivered: Counter[str] = Counter()
        self.retried: Counter[str] = Counter()
        self.failed_permanently: Counter[str] = Counter()
        self.gave_up: Counter[str] = Counter()
        self.announced: Counter[str] = Counter()  # channel.failed messages enqueued, by channel

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._warn_about_links()
        self._task = asyncio.create_task(self._run(), name="upwatch-notify")

    async def stop(self, grace: float = 2.0) -> None:
        """Stop claiming; give the poll and the sends in flight `grace` seconds in all, then
        cancel them (their leases run out and another worker retries them)."""
        self._stopping.set()
        deadline = asyncio.get_running_loop().time() + grace
        if self._task is not None:
            await _settle([self._task], deadline)  # a poll may hang on a silent database
        await _settle(list(self._in_flight.values()), deadline)
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None and self._owns_http:
            await self._http.aclose()
            self._http = None

    def _warn_about_links(self) -> None:
        if not self.warn:
            return
        if self.secret_key is None:
            log.warning(
                "UPWATCH_SECRET_KEY is not set: acknowledging is off, messages carry no "
                "Acknowledge link"
            )
        elif self.config().config.status_page.public_url is None:
            log.warning(
                "status_page.public_url is not set: messages carry no Acknowledge or status "
                "page link"
            )
        # Subscribing is refused (503) until both are set; without this line nothing says why.
        subscribing = subscription_warning(
            self.config().config, secret_key_set=self.secret_key is not None
        )
        if subscribing is not None:
            log.warning(subscribing)

    async def _run(self) -> None:
        unreachable = False
        while not self._stopping.is_set():
            try:
                await self._poll()
            except (OSError, SQLAlchemyError) as exc:
                if not unreachable:  # once per outage, not once a second
                    log.warning("outbox unreachable; will retry", error=type(exc).__name__)
                unreachable = True
            else:
                if unreachable:
                    log.info("outbox reachable again; delivering")
                unreachable = False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_every):
                    await self._stopping.wait()

    async def _poll(self) -> None:
        free = self.max_in_flight - len(self._in_flight)
        if free <= 0:
            return
        for outbox_id in await self._due(free):
            self._in_flight[outbox_id] = asyncio.create_task(self._process_tracked(outbox_id))

    async def _process_tracked(self, outbox_id: int) -> None:
        try:
            await self.process(outbox_id)
        except Exception as exc:  # a bug: the lease brings the message back; keep running
            log.error("delivering a message failed", outbox_id=outbox_id, error=type(exc).__name__)
        finally:
            self._in_flight.pop(outbox_id, None)

    async def run_once(self) -> int:
        """Send everything due now and wait for it (tests drive the worker with this)."""
        ids = await self._due(self.max_in_flight)
        await asyncio.gather(*(self.process(i) for i in ids))
        return len(ids)

    async def _due(self, limit: int) -> list[int]:
        async with self.engine.connect() as connection:
            return await deliveries.due(connection, self.clock(), limit, set(self._in_flight))

    # ---- one message ------------------------------------------------------------------------

    async def process(self, outbox_id: int) -> None:
        """Claim, send and record one row; a database error leaves it to the lease."""
        try:
            loaded = self.config()
            claimed = await self._claim(outbox_id)
            if claimed is None:
                return  # another worker has it, or it is no longer due
            delivery, told = claimed
            if delivery.channel == subscribers.FAN_OUT:
                await self._fan_out(delivery, loaded)
                return
            attempted_at = self.clock()
            subscriber = subscribers.subscriber_of(delivery.channel)
            if subscriber is None:
                outcome = await self._send(delivery, told, loaded)
            else:
                sent = await self._send_subscriber(delivery, subscriber, loaded)
                if sent is None:
                    return  # unsubscribed meanwhile: cancelled, nothing to send
                outcome = sent
            await self._complete(delivery, outcome, attempted_at, loaded)
        except (OSError, SQLAlchemyError) as exc:
            log.warning(
                "outbox write failed; the message is retried when its claim runs out",
                outbox_id=outbox_id,
                error=type(exc).__name__,
            )

    async def _claim(self, outbox_id: int) -> tuple[Delivery, tuple[str, ...]] | None:
        now = self.clock()
        async with self.engine.begin() as connection:
            won = await deliveries.claim(
                connection, outbox_id, holder=self.holder, now=now, until=now + self.lease
            )
            delivery = await deliveries.load(connection, outbox_id) if won else None
            if delivery is None:
                return None
            if subscribers.is_subscriber_row(delivery.channel):  # no "who was told" for them
                return delivery, ()
            return delivery, await deliveries.recipients(connection, delivery)

    async def _send(
        self, delivery: Delivery, told: tuple[str, ...], loaded: LoadedConfig
    ) -> Outcome:
        try:
            message = compose(delivery, loaded, told, self.secret_key)
        except (KeyError, TypeError, ValueError) as exc:  # a row no version could send
            return Outcome.give_up(f"the stored message is malformed ({type(exc).__name__})")
        return await deliver(message, loaded, self._context(loaded), self.send_timeout)

    async def _fan_out(self, delivery: Delivery, loaded: LoadedConfig) -> None:
        """Turn one incident event into one row per confirmed subscriber (none when
        subscriptions were turned off since), and mark the event's row done, atomically."""
        now = self.clock()
        added = 0
        async with self.engine.begin() as connection:
            if loaded.config.status_page.subscriptions is not None:
                added = await subscribers.fan_out(
                    connection,
                    key=delivery.key,
                    event=delivery.event,
                    monitor_id=delivery.monitor_id,
                    payload=delivery.payload,
                    at=delivery.event_at,
                    now=now,
                )
            await deliveries.mark_delivered(connection, delivery.id, now)
        log.info("subscriber messages enqueued", kind=delivery.event, count=added)

    async def _send_subscriber(
        self, delivery: Delivery, subscriber_id: int, loaded: LoadedConfig
    ) -> Outcome | None:
        async with self.engine.begin() as connection:
            found = await subscribers.recipient(connection, subscriber_id)
            confirming = delivery.event == subscribers.CONFIRM_EVENT
            wanted = found is not None and (not found.unsubscribed if confirming else found.active)
            if not wanted:
                await deliveries.mark_cancelled(connection, delivery.id, self.clock())
                return None
        assert found is not None
        note = subscriber_mail.SubscriberNote(
            delivery.key,
            delivery.event,
            subscriber_id,
            found.address,
            delivery.monitor_name,
            delivery.payload,
        )
        ctx = self._context(loaded)
        return await subscriber_mail.send(note, loaded, self.secret_key, ctx, self.send_timeout)

    def _context(self, loaded: LoadedConfig) -> SendContext:
        if self._renderer is None or self._renderer[0] is not loaded:
            self._renderer = (loaded, Renderer.for_config(loaded))
        if self._http is None:
            self._http = http_client()
        return SendContext(
            http=self._http,
            renderer=self._renderer[1],
            clock=self.clock,
            smtp_tls=self._smtp_tls,
        )

    async def _complete(
        self, delivery: Delivery, outcome: Outcome, attempted_at: datetime, loaded: LoadedConfig
    ) -> None:
        now = self.clock()
        async with self.engine.begin() as connection:
            await deliveries.record_attempt(
                connection,
                delivery.id,
                at=attempted_at,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
            if outcome.ok:
                await deliveries.mark_delivered(connection, delivery.id, now)
                self._log_delivered(delivery, outcome)
                return
            retry_at = None if outcome.permanent else self._retry_at(delivery, outcome, now)
            if retry_at is not None:
                await deliveries.reschedule(connection, delivery.id, retry_at, outcome.error or "")
                self._log_retry(delivery, outcome, retry_at)
                return
            await self._fail(connection, delivery, outcome, now, loaded)

    def _retry_at(self, delivery: Delivery, outcome: Outcome, now: datetime) -> datetime | None:
        return next_attempt(
            attempts=delivery.attempts,
            created_at=delivery.created_at,
            now=now,
            retry_after=outcome.retry_after,
            rng=self.rng,
        )

    async def _fail(
        self,
        connection: AsyncConnection,
        delivery: Delivery,
        outcome: Outcome,
        now: datetime,
        loaded: LoadedConfig,
    ) -> None:
        error = outcome.error or "failed"
        if not outcome.permanent:
            error = f"gave up after {delivery.attempts} attempts in 24 h; last error: {error}"
            self.gave_up[_counted(delivery)] += 1
        else:
            self.failed_permanently[_counted(delivery)] += 1
        await deliveries.mark_failed(connection, delivery.id, now, error)
        log.error(
            "notification failed permanently",
            **_about(delivery),
            status=outcome.status_code,
            error=error,
        )
        if delivery.channel in loaded.config.channels:  # a removed channel is no news
            await self._announce(connection, delivery, error, now, loaded)

    async def _announce(
        self,
        connection: AsyncConnection,
        delivery: Delivery,
        error: str,
        now: datetime,
        loaded: LoadedConfig,
    ) -> None:
        told: set[str] = set()
        if delivery.incident_id is not None:
            told = await told_channels(connection, delivery.incident_id)
        targets = failure_targets(delivery, told, loaded.config)
        if targets:
            await enqueue(connection, failure_notices(delivery, error, targets, now), now)
            self.announced[delivery.channel] += len(targets)

    # ---- logs ---------------------------------------------------------------------------------

    def _log_delivered(self, delivery: Delivery, outcome: Outcome) -> None:
        self.delivered[_counted(delivery)] += 1
        log.info(
            "notification delivered",
            **_about(delivery),
            ms=outcome.duration_ms,
        )

    def _log_retry(self, delivery: Delivery, outcome: Outcome, retry_at: datetime) -> None:
        self.retried[_counted(delivery)] += 1
        log.warning(
            "notification not delivered; will retry",
            **_about(delivery),
            status=outcome.status_code,
            error=outcome.error,
            retry_at=retry_at.isoformat(),
        )


def _counted(delivery: Delivery) -> str:
    """The channel a delivery counts under: every subscriber under one name (no per-person
    label in `/metrics`)."""
    if subscribers.subscriber_of(delivery.channel) is not None:
        return subscribers.FAN_OUT
    return delivery.channel


def _about(delivery: Delivery) -> dict[str, object]:
    """The fields every log line about a delivery carries (a subscriber by id, never address)."""
    return {
        "channel": delivery.channel,
        "kind": delivery.event,
        "monitor": delivery.monitor_id,
        "incident": delivery.incident_id,
        "attempts": delivery.attempts,
    }


async def _settle(tasks: list[asyncio.Task[None]], deadline: float) -> None:
    """Wait for `tasks` until `deadline` (loop time), then cancel what is still running."""
    if not tasks:
        return
    timeout = max(deadline - asyncio.get_running_loop().time(), 0.0)
    _, late = await asyncio.wait(tasks, timeout=timeout)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)


def daemon_worker(
    engine: AsyncEngine, config: Callable[[], LoadedConfig], settings: Settings
) -> DeliveryWorker:
    """The worker as `upwatch run` starts it: real clock, real hosts, the process's name."""
    return DeliveryWorker(
        engine,
        config,
        secret_key=settings.secret_key,
        instance=settings.instance,
        clock=lambda: datetime.now(UTC),
        warn=settings.worker_index == 0,  # the same for every worker: said once
    )
