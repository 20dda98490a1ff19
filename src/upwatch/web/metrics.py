"""`/metrics` in the Prometheus text format, through prometheus_client.

blackbox_exporter's names where they mean the same thing (`probe_success`,
`probe_duration_seconds`, `probe_http_status_code`, `probe_ssl_earliest_cert_expiry`), labelled by
`monitor`, so existing dashboards and alerts carry over; upwatch's own as `upwatch_*`. Every scrape
builds a fresh registry around a collector over rows read for it: no global gauges that could
drift from the database or leak a removed monitor.

`UPWATCH_METRICS_TOKEN`: when set, a scrape needs `Authorization: Bearer <token>` and sees every
monitor and channel; when unset, anyone may scrape, and sees public monitors only, channel counters
summed under `channel="all"`, from an exposition cached like the status page (rebuilt every few
seconds, or within a second of a state change), so scraping costs next to nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from upwatch.config.models import Config
from upwatch.web.api_auth import Caller, caller
from upwatch.web.board_build import (
    intervals,
    maintenance_windows,
    measured_since,
    shown_state,
    uptime_figures,
)
from upwatch.web.context import AppContext
from upwatch.web.metrics_families import Families
from upwatch.web.metrics_runtime import RuntimeCounts, runtime_counts, runtime_families
from upwatch.web.metrics_source import MetricsSource, fetch_metrics_source


class MonitorCollector(Collector):
    """The metrics of one scrape's rows (`include_private` when the scrape is authenticated)."""

    def __init__(
        self,
        source: MetricsSource,
        config: Config,
        now: datetime,
        *,
        include_private: bool,
        runtime: RuntimeCounts | None = None,
    ) -> None:
        self.source = source
        self.config = config
        self.now = now
        self.include_private = include_private
        self.runtime = runtime or RuntimeCounts()

    def collect(self) -> Iterator[Metric]:
        families = Families()
        windows = maintenance_windows(self.config, self.now)
        for row in self.source.rows:
            if not (row.public or self.include_private):
                continue
            own = [w for w in windows if w.applies_to(row.id)]
            incidents, excluded = intervals(row.id, self.source.history, own, self.now)
            families.add_monitor(
                row,
                shown_state(row, own, self.now),
                uptime_figures(incidents, excluded, measured_since(row), self.now),
                self.source.open_incidents.get(row.id, 0),
            )
            if (latency := self.source.latency.get(row.id)) is not None:
                families.add_response_times(row.id, latency.percentiles())
            if (slo := self.source.slo.get(row.id)) is not None:
                families.add_slo(row.id, slo)
            families.add_regions(row.id, self.source.regions.get(row.id, ()))
        yield from families.all()
        yield from runtime_families(self.runtime)


def exposition(collector: MonitorCollector) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    ProcessCollector(registry=registry)
    return generate_latest(registry)


async def metrics(request: Request) -> Response:
    ctx: AppContext = request.app.state.ctx
    token = ctx.settings.metrics_token
    if token is not None and caller(request, token) is not Caller.TRUSTED:
        return PlainTextResponse(
            "unauthorized: this /metrics needs the header Authorization: Bearer "
            "<UPWATCH_METRICS_TOKEN>",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="upwatch metrics"'},
        )
    if ctx.engine is None:
        return PlainTextResponse("starting up: the database is not open yet", status_code=503)
    if token is None:  # anyone may ask: one cached exposition, rebuilt like the status page
        key = ("metrics", ctx.loaded.digest)
        body = await ctx.pages.get(
            key, lambda: _exposition(ctx, private=False), ctx.state_version()
        )
    else:
        body = await _exposition(ctx, private=True)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


async def _exposition(ctx: AppContext, *, private: bool) -> bytes:
    """Every monitor with the token; without it public monitors only, and no channel names."""
    assert ctx.engine is not None
    now = ctx.clock()
    source = await fetch_metrics_source(ctx.engine, now, ctx.loaded.config, ctx.latency)
    runtime = runtime_counts(ctx)
    collector = MonitorCollector(
        source,
        ctx.loaded.shown(),
        now,
        include_private=private,
        runtime=runtime if private else runtime.anonymous(),
    )
    return await asyncio.to_thread(exposition, collector)
