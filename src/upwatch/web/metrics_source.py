"""What one `/metrics` scrape reads: every live monitor with its state, its latest result's
duration and certificate expiry, open incident counts, uptime inputs, the last 24 hours' latency
sketches merged per monitor and SLO figures (one batched read for every monitor with an `slo`).
Read per scrape, so the numbers are never older than the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from upwatch.config.models import Config
from upwatch.engine.phase import EPOCH
from upwatch.engine.slo import SloStatus
from upwatch.store import reads
from upwatch.store import regions as region_store
from upwatch.store.latency_window import LatencyWindow
from upwatch.store.regions import RegionResult
from upwatch.store.rollups import Rollup
from upwatch.store.slo_reads import slo_statuses
from upwatch.web.views import History, load_history


@dataclass(frozen=True, slots=True)
class MetricsSource:
    rows: list[Row[Any]]  # one per live monitor, public or not (the handler filters)
    open_incidents: dict[str, int]
    history: History
    slo: dict[str, SloStatus]  # monitors with an `slo` only
    latency: dict[str, Rollup] = field(default_factory=dict)  # hourly rollups, last 24 hours
    # Each listed region's latest result, for monitors with `regions` (one read of them all)
    regions: dict[str, list[RegionResult]] = field(default_factory=dict)


async def fetch_metrics_source(
    engine: AsyncEngine, now: datetime, config: Config, latency: LatencyWindow
) -> MetricsSource:
    async with engine.connect() as connection:
        found = await reads.monitors_with_latest_result(connection)
        open_incidents = await reads.open_incident_counts(connection)
        history = await load_history(connection, now)
        slo = await slo_statuses(connection, config, [r.id for r in found], now)
        merged = await latency.read(connection, now)
        regional = await _regional(connection, config)
    rows, seen = [], set()
    for row in found:  # two results at the same instant would repeat a monitor: keep one
        if row.id not in seen:
            seen.add(row.id)
            rows.append(row)
    return MetricsSource(rows, open_incidents, history, slo, merged, regional)


async def _regional(connection: AsyncConnection, config: Config) -> dict[str, list[RegionResult]]:
    listed = {m.id: set(m.regions) for m in config.monitors if m.regions}
    if not listed:
        return {}
    found: dict[str, list[RegionResult]] = {}
    for item in await region_store.written_since(connection, EPOCH):
        if item.region in listed.get(item.monitor_id, ()):
            found.setdefault(item.monitor_id, []).append(item)
    return found
