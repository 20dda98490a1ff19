"""Hourly and daily rollups of results: checks, failures, degraded, latency percentiles.

Latency percentiles are kept as a histogram with fixed bucket bounds, so rollups merge by adding
counts and hours combine into days exactly; p50/p95 are read off the histogram (bucket upper bound,
which over-reports by at most one bucket width).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.store.tables import DAILY, HOURLY
from upwatch.store.upsert import insert_for, upsert

# Upper bounds in milliseconds; a last bucket catches everything slower.
BOUNDS_MS = (
    *(1, 2, 5, 10, 15, 20, 30, 40, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750),
    *(1000, 1500, 2000, 3000, 5000, 7500, 10_000, 15_000, 30_000, 60_000),
)
BUCKETS = len(BOUNDS_MS) + 1


@dataclass(slots=True)
class Rollup:
    checks: int = 0
    failures: int = 0
    degraded: int = 0
    latency_sum_ms: float = 0.0
    hist: list[int] = field(default_factory=lambda: [0] * BUCKETS)

    def add(self, state: str, duration_ms: float | None) -> None:
        self.checks += 1
        self.failures += state == "down"
        self.degraded += state == "degraded"
        if duration_ms is not None:
            self.latency_sum_ms += duration_ms
            self.hist[bisect.bisect_left(BOUNDS_MS, duration_ms)] += 1

    def merge(self, other: Rollup) -> None:
        self.checks += other.checks
        self.failures += other.failures
        self.degraded += other.degraded
        self.latency_sum_ms += other.latency_sum_ms
        self.hist = [a + b for a, b in zip(self.hist, other.hist, strict=True)]

    def percentile(self, q: float) -> float | None:
        total = sum(self.hist)
        if total == 0:
            return None
        rank = q * total
        seen = 0
        for index, count in enumerate(self.hist):
            seen += count
            if seen >= rank and count:
                return float(BOUNDS_MS[min(index, len(BOUNDS_MS) - 1)])
        return float(BOUNDS_MS[-1])


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def day_of(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def rollup_of(row: Any) -> Rollup:
    hist = list(row.latency_hist or [])
    hist = (hist + [0] * BUCKETS)[:BUCKETS]
    return Rollup(row.checks, row.failures, row.degraded, row.latency_sum_ms, hist)


def aggregate(
    results: Iterable[Sample],
) -> tuple[dict[tuple[str, datetime], Rollup], dict[tuple[str, datetime], Rollup]]:
    """Hourly and daily rollups of (monitor_id, checked_at, state, duration_ms) tuples."""
    hours: dict[tuple[str, datetime], Rollup] = {}
    days: dict[tuple[str, datetime], Rollup] = {}
    for monitor_id, at, state, duration_ms in results:
        hours.setdefault((monitor_id, hour_of(at)), Rollup()).add(state, duration_ms)
        days.setdefault((monitor_id, day_of(at)), Rollup()).add(state, duration_ms)
    return hours, days


Key = tuple[str, datetime]  # (monitor id, bucket start)
Sample = tuple[str, datetime, str, float | None]  # (monitor id, checked at, state, duration ms)


class RollupCache:
    """The current hour's and day's rollups of the monitors this process evaluates, in memory.

    A flush merges its results into these and writes the rows, instead of reading every touched
    row back first; a row is read from the database only the first time this process touches it
    (a new hour, a monitor just taken over). Changes are staged until the transaction commits,
    so a failed flush, retried, counts nothing twice. Monitors this process stops evaluating are
    forgotten: whoever evaluates them next may write their rows.
    """

    def __init__(self) -> None:
        self.known: dict[Table, dict[Key, Rollup]] = {HOURLY: {}, DAILY: {}}
        self._staged: dict[Table, dict[Key, Rollup]] = {HOURLY: {}, DAILY: {}}
        self._newest: dict[Table, datetime] = {}

    async def apply(
        self,
        connection: AsyncConnection,
        results: Sequence[tuple[str, datetime, str, float | None]],
    ) -> None:
        """Merge a batch of results into the hourly and daily rollup rows."""
        hours, days = aggregate(results)
        for table, fresh in ((HOURLY, hours), (DAILY, days)):
            await self._merge_into(connection, table, fresh)

    async def _merge_into(
        self, connection: AsyncConnection, table: Table, fresh: dict[Key, Rollup]
    ) -> None:
        if not fresh:
            return
        known, staged = self.known[table], self._staged[table]
        unknown = [key for key in fresh if key not in known and key not in staged]
        stored = await _read(connection, table, unknown)
        for key, rollup in fresh.items():
            base = staged.get(key) or known.get(key) or stored.get(key)
            if base is not None:
                rollup.merge(base)
            staged[key] = rollup
        rows = [_row(monitor_id, bucket, r) for (monitor_id, bucket), r in fresh.items()]
        columns = [c for c in rows[0] if c not in ("monitor_id", "bucket", "downtime_seconds")]
        await upsert(connection, table, rows, ["monitor_id", "bucket"], columns)

    def commit(self) -> None:
        for table, staged in self._staged.items():
            known = self.known[table]
            known.update(staged)
            newest = max((bucket for _, bucket in staged), default=None)
            if newest is not None and newest > self._newest.get(table, newest):
                _drop_before(known, newest)
            if newest is not None:
                self._newest[table] = max(newest, self._newest.get(table, newest))
        self.rollback()

    def rollback(self) -> None:
        for staged in self._staged.values():
            staged.clear()

    def forget(self, monitor_ids: Iterable[str]) -> None:
        gone = set(monitor_ids)
        for known in self.known.values():
            for key in [k for k in known if k[0] in gone]:
                del known[key]


def _drop_before(known: dict[Key, Rollup], newest: datetime) -> None:
    """Results reached a new hour (or day): keep it and the one before (late results still
    land there); older rows are read back if a result ever arrives for them."""
    buckets = sorted({bucket for _, bucket in known if bucket < newest})
    for key in [k for k in known if buckets[:-1] and k[1] < buckets[-1]]:
        del known[key]


async def _read(
    connection: AsyncConnection, table: Table, keys: Sequence[Key]
) -> dict[Key, Rollup]:
    by_bucket: dict[datetime, list[str]] = {}
    for monitor_id, bucket in keys:
        by_bucket.setdefault(bucket, []).append(monitor_id)
    # One bucket per query (a flush spans one or two): `bucket = ? AND monitor_id IN (...)` is
    # answered from the key, where a row-value IN over (monitor_id, bucket) pairs made SQLite
    # scan the whole rollup table on every flush (≈1 ms of CPU per probe at 10,000 monitors).
    found: dict[Key, Rollup] = {}
    for bucket, ids in by_bucket.items():
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            query = select(table).where(table.c.bucket == bucket, table.c.monitor_id.in_(chunk))
            for row in await connection.execute(query):
                found[(row.monitor_id, bucket)] = rollup_of(row)
    return found


def _row(monitor_id: str, bucket: datetime, rollup: Rollup) -> dict[str, Any]:
    return {
        "monitor_id": monitor_id,
        "bucket": bucket,
        "checks": rollup.checks,
        "failures": rollup.failures,
        "degraded": rollup.degraded,
        "downtime_seconds": 0.0,
        "latency_sum_ms": rollup.latency_sum_ms,
        "latency_hist": rollup.hist,
        "p50_ms": rollup.percentile(0.5),
        "p95_ms": rollup.percentile(0.95),
    }


def spans_by_bucket(
    start: datetime, end: datetime, size: timedelta
) -> list[tuple[datetime, float]]:
    """Split [start, end) into hour or day buckets: (bucket start, seconds inside it)."""
    floor = hour_of if size == timedelta(hours=1) else day_of
    spans: list[tuple[datetime, float]] = []
    cursor = start
    while cursor < end:
        bucket = floor(cursor)
        stop = min(end, bucket + size)
        spans.append((bucket, (stop - cursor).total_seconds()))
        cursor = stop
    return spans


async def add_downtime(
    connection: AsyncConnection, monitor_id: str, start: datetime, end: datetime
) -> None:
    """Add a resolved incident's time to the hourly and daily rollups it overlaps."""
    for table, size in ((HOURLY, timedelta(hours=1)), (DAILY, timedelta(days=1))):
        for bucket, seconds in spans_by_bucket(start, end, size):
            row = {**_row(monitor_id, bucket, Rollup()), "downtime_seconds": seconds}
            statement = insert_for(connection, table)
            statement = statement.on_conflict_do_update(
                index_elements=["monitor_id", "bucket"],
                set_={"downtime_seconds": table.c.downtime_seconds + seconds},
            )
            await connection.execute(statement, row)
