"""Hourly and daily rollups of results: checks, failures, degraded, latency percentiles.

Latency percentiles come from a DDSketch kept per row (store/sketch.py): rows merge by adding
bin counts, hours combine into days or any window, and p50/p95/p99 are within 1 % of the exact
nearest-rank percentile of the durations. The sketch replaces the fixed-bucket histogram
(`latency_hist`), whose bucket upper bounds over-reported by up to 50 %: upwatch no longer
writes it (the column stays for one release; the previous version, still running during a
redeploy, reads a null histogram as no percentiles), which also pays for the sketch in CPU per
probe.

Percentiles are read from the sketches when shown, not stored per row: writing them on every
flush cost more CPU per probe than the sketch itself. Rows written before the sketch existed
(`latency_sketch` null) count as no data when sketches are merged over a window; a chart's hour
drawn from such a row shows the p50/p95 stored with it then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ddsketch.ddsketch import BaseDDSketch
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.store import sketch as sketches
from upwatch.store.tables import DAILY, HOURLY
from upwatch.store.upsert import insert_for, upsert


@dataclass(slots=True)
class Rollup:
    checks: int = 0
    failures: int = 0
    degraded: int = 0
    latency_sum_ms: float = 0.0
    sketch: BaseDDSketch = field(default_factory=sketches.new_sketch)

    def add(self, state: str, duration_ms: float | None) -> None:
        self.checks += 1
        self.failures += state == "down"
        self.degraded += state == "degraded"
        if duration_ms is not None:
            self.latency_sum_ms += duration_ms
            self.sketch.add(duration_ms, 1)  # whole counts: the store's JSON stays integers

    def merge(self, other: Rollup) -> None:
        self.checks += other.checks
        self.failures += other.failures
        self.degraded += other.degraded
        self.latency_sum_ms += other.latency_sum_ms
        self.sketch.merge(other.sketch)

    def percentiles(self) -> dict[str, float | None]:
        """p50, p95 and p99 in ms (None without durations), read in one pass."""
        values = sketches.percentiles(self.sketch, [q for _, q in sketches.QUANTILES])
        return {label: v for (label, _), v in zip(sketches.QUANTILES, values, strict=True)}


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def day_of(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def rollup_of(row: Any) -> Rollup:
    """A stored row. One without a sketch (written before migration 0004) gets an empty one: its
    durations count as no data for percentiles, since its histogram cannot give them within 2 %."""
    stored = sketches.loads(row.latency_sketch) or sketches.new_sketch()
    return Rollup(row.checks, row.failures, row.degraded, row.latency_sum_ms, stored)


Key = tuple[str, datetime]  # (monitor id, bucket start)
Sample = tuple[str, datetime, str, float | None]  # (monitor id, checked at, state, duration ms)
Outcome = tuple[str, float | None]  # (state, duration ms)


def by_bucket(
    results: Iterable[Sample],
) -> tuple[dict[Key, list[Outcome]], dict[Key, list[Outcome]]]:
    """The (state, duration) of each result, grouped by hourly and by daily rollup row."""
    hours: dict[Key, list[Outcome]] = {}
    days: dict[Key, list[Outcome]] = {}
    for monitor_id, at, state, duration_ms in results:
        hours.setdefault((monitor_id, hour_of(at)), []).append((state, duration_ms))
        days.setdefault((monitor_id, day_of(at)), []).append((state, duration_ms))
    return hours, days


class RollupCache:
    """The current hour's and day's rollups of the monitors this process evaluates, in memory.

    A flush adds its results to these and writes the rows, instead of reading every touched
    row back first; a row is read from the database only the first time this process touches it
    (a new hour, a monitor just taken over). Results are added in place, each one to the row's
    sketch at the cost of one bin increment; a sketch is serialized only when its row is
    written. A rollback forgets the rows the failed flush touched, so the retry reads them back
    as committed and counts nothing twice. Monitors this process stops evaluating are
    forgotten: whoever evaluates them next may write their rows.
    """

    def __init__(self) -> None:
        self.known: dict[Table, dict[Key, Rollup]] = {HOURLY: {}, DAILY: {}}
        self._touched: dict[Table, set[Key]] = {HOURLY: set(), DAILY: set()}
        self._newest: dict[Table, datetime] = {}

    async def apply(
        self,
        connection: AsyncConnection,
        results: Sequence[tuple[str, datetime, str, float | None]],
    ) -> None:
        """Merge a batch of results into the hourly and daily rollup rows."""
        hours, days = by_bucket(results)
        for table, fresh in ((HOURLY, hours), (DAILY, days)):
            await self._merge_into(connection, table, fresh)

    async def _merge_into(
        self, connection: AsyncConnection, table: Table, fresh: dict[Key, list[Outcome]]
    ) -> None:
        if not fresh:
            return
        known, touched = self.known[table], self._touched[table]
        known.update(await _read(connection, table, [key for key in fresh if key not in known]))
        rows = []
        for key, outcomes in fresh.items():
            rollup = known.get(key)
            if rollup is None:
                rollup = known[key] = Rollup()
            for state, duration_ms in outcomes:
                rollup.add(state, duration_ms)
            touched.add(key)
            rows.append(_row(key[0], key[1], rollup))
        columns = [c for c in rows[0] if c not in ("monitor_id", "bucket", "downtime_seconds")]
        await upsert(connection, table, rows, ["monitor_id", "bucket"], columns)

    def commit(self) -> None:
        for table, touched in self._touched.items():
            known = self.known[table]
            newest = max((bucket for _, bucket in touched), default=None)
            if newest is not None and newest > self._newest.get(table, newest):
                _drop_before(known, newest)
            if newest is not None:
                self._newest[table] = max(newest, self._newest.get(table, newest))
            touched.clear()

    def rollback(self) -> None:
        for table, touched in self._touched.items():
            known = self.known[table]
            for key in touched:
                known.pop(key, None)
            touched.clear()

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
        # Serialized here, once per row written; percentiles are read from it when shown, so
        # the stored p50_ms/p95_ms columns are left as older versions wrote them.
        "latency_sketch": sketches.dumps(rollup.sketch),
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
