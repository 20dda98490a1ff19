"""The last 24 hours' latency per monitor (hourly rollups merged, for p50/p95/p99), read on every
status page rebuild and every `/metrics` scrape without parsing and merging 24 sketches per
monitor each time.

Merging a window's hourly rows cost 1.45 s of CPU per read at 1,000 monitors, about half of it
decoding the sketches' JSON and most of the rest merging them. Only the current hour's row
changes from one read to the next, so `LatencyWindow` keeps, per monitor, the merged rollup of
the window's completed hours and on each read parses and merges just the current hour into a
copy of it.

The kept merge is checked on every read against the database, never trusted by age: workers and
other instances write rollups too, and a late result can land in a past hour. One grouped query
gives each monitor's count of completed-hour rows and the sum of their `checks`; a row's
`checks` only grows (every result that changes its sketch adds one), so a changed past hour
changes the sum, and that monitor's completed hours are read and merged again. When the hour
turns, the window moves and every monitor's completed hours are read once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.store.rollups import Rollup, hour_of, rollup_of
from upwatch.store.tables import HOURLY

# Only the columns a Rollup needs: the legacy histogram and bucket times would be decoded for
# nothing.
_COLUMNS = ("monitor_id", "checks", "failures", "degraded", "latency_sum_ms", "latency_sketch")
_CHUNK = 500  # monitor ids per IN (...) when only some monitors' past hours changed

Fingerprint = tuple[int, int]  # (completed-hour rows, sum of their checks)


@dataclass(frozen=True, slots=True)
class _Past:
    """A monitor's completed hours in one window, merged; never mutated once made."""

    span: tuple[datetime, datetime]  # [first bucket, current hour)
    fingerprint: Fingerprint
    rollup: Rollup


class LatencyWindow:
    """Hourly rollups since `now - window` merged per monitor, with the completed hours' merge
    kept per process between reads (the ASGI lifespan owns one; see the module docstring)."""

    def __init__(self, window: timedelta = timedelta(hours=24)) -> None:
        self.window = window
        self._past: dict[str, _Past] = {}

    async def read(self, connection: AsyncConnection, now: datetime) -> dict[str, Rollup]:
        """Each monitor's rollup of the hours since `now - window` (the current one included);
        rows without a latency sketch (from before migration 0004) add no durations. The
        rollups returned are the caller's own: changing one changes nothing kept here."""
        current, start = hour_of(now), now - self.window
        first = start if start == hour_of(start) else hour_of(start) + timedelta(hours=1)
        span = (first, current)  # the completed hours: buckets from `first` up to `current`
        fingerprints = await _fingerprints(connection, *span)
        # Taken before the next await: another read (another task, another hour) may replace
        # the entries meanwhile, and each is only good for its own span and fingerprint.
        held = {
            m: e
            for m, e in self._past.items()
            if e.span == span and e.fingerprint == fingerprints.get(m)
        }
        stale = [m for m in fingerprints if m not in held]
        # Rows read after their fingerprint are as new or newer: a result landing in between
        # makes the next read find a different sum and merge again, never serve a stale one.
        everything = len(stale) == len(fingerprints)
        fresh = await _merged(connection, span, None if everything else stale) if stale else {}
        # A new dict, not updated in place: monitors gone from the window are dropped.
        past = held | {m: _Past(span, fingerprints[m], r) for m, r in fresh.items()}
        self._past = past
        merged = {m: _copy(entry.rollup) for m, entry in past.items()}
        live = select(*(HOURLY.c[name] for name in _COLUMNS)).where(HOURLY.c.bucket >= current)
        for row in await connection.execute(live):
            merged.setdefault(row.monitor_id, Rollup()).merge(rollup_of(row))
        return merged


def _copy(rollup: Rollup) -> Rollup:
    fresh = Rollup()
    fresh.merge(rollup)
    return fresh


async def _fingerprints(
    connection: AsyncConnection, start: datetime, current: datetime
) -> dict[str, Fingerprint]:
    """Per monitor: its completed hours' row count and sum of checks (see the module docstring)."""
    query = (
        select(HOURLY.c.monitor_id, func.count(), func.sum(HOURLY.c.checks))
        .where(HOURLY.c.bucket >= start, HOURLY.c.bucket < current)
        .group_by(HOURLY.c.monitor_id)
    )
    return {m: (int(rows), int(checks or 0)) for m, rows, checks in await connection.execute(query)}


async def _merged(
    connection: AsyncConnection, span: tuple[datetime, datetime], monitor_ids: Sequence[str] | None
) -> dict[str, Rollup]:
    """The completed hours of `monitor_ids` (None: every monitor, in one query without a list of
    ids), merged per monitor."""
    start, current = span
    query = select(*(HOURLY.c[name] for name in _COLUMNS)).where(
        HOURLY.c.bucket >= start, HOURLY.c.bucket < current
    )
    if monitor_ids is None:
        statements = [query]
    else:
        ids = list(monitor_ids)
        chunks = [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
        statements = [query.where(HOURLY.c.monitor_id.in_(chunk)) for chunk in chunks]
    merged: dict[str, Rollup] = {}
    for statement in statements:
        for row in await connection.execute(statement):
            merged.setdefault(row.monitor_id, Rollup()).merge(rollup_of(row))
    return merged
