"""What request handlers need, passed in once when the app is built (no globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from upwatch.config.loader import LoadedConfig
from upwatch.runtime.health import Health
from upwatch.runtime.settings import Settings
from upwatch.store.latency_window import LatencyWindow
from upwatch.web.checkins import CheckinGate
from upwatch.web.metrics_runtime import Probing, ResultPipeline
from upwatch.web.page_cache import PageCache
from upwatch.web.rate_limit import RateLimit

if TYPE_CHECKING:
    from upwatch.notify.worker import DeliveryWorker


class CheckinSink(Protocol):
    def check_in(self, monitor_id: str, at: datetime, ok: bool) -> None: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class AppContext:
    settings: Settings
    health: Health
    loaded: LoadedConfig  # replaced on SIGHUP; handlers read it per request
    engine: AsyncEngine | None = None  # None until the database is open
    checkins: CheckinSink | None = None
    checkin_gate: CheckinGate = field(default_factory=CheckinGate)  # thins bursts of successes
    clock: Callable[[], datetime] = field(default=utcnow)
    pages: PageCache = field(default_factory=PageCache)  # rendered public pages, per process
    # The last 24 hours' completed-hour latency sketches merged per monitor, per process
    latency: LatencyWindow = field(default_factory=LatencyWindow)
    notifier: DeliveryWorker | None = None  # the outbox worker: delivery counters for /metrics
    pipeline: ResultPipeline | None = None  # the result buffer: its counters for /metrics
    probing: Probing | None = None  # the monitoring service: shards and schedule load
    # Moves when a monitor's shown state changes here: the cached status is rebuilt then (at
    # most once a second) rather than only when it ages.
    state_version: Callable[[], int] = field(default=lambda: 0)
    # Regions with a live instance (None: not known here, when the config lists no regions)
    live_regions: Callable[[], frozenset[str] | None] = field(default=lambda: None)
    # `POST /subscribe`: 5 per client address per hour in this process, a cheap first filter
    # (the limit itself is counted in the database, shared by every worker and instance)
    subscribe_limit: RateLimit = field(default_factory=lambda: RateLimit(5, 3600.0))
