"""Regions in the database: each region's results, their latest per monitor, and which regions
have a live instance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.probes.result import ProbeResult, ProbeState
from upwatch.store.results import result_row
from upwatch.store.tables import INSTANCES, REGION_VOTES, REGIONS, RESULTS
from upwatch.store.upsert import upsert

_VOTE_COLUMNS = ("checked_at", "state", "duration_ms", "status_code", "cause", "public_cause")


@dataclass(frozen=True, slots=True)
class RegionResult:
    monitor_id: str
    region: str
    result: ProbeResult


async def record(connection: AsyncConnection, found: Sequence[RegionResult], now: datetime) -> None:
    """Store a region's results (every one, with its region) and make each the latest of its
    region, where it is newer."""
    if not found:
        return
    rows = [{**result_row(f.monitor_id, f.result), "region": f.region} for f in found]
    await connection.execute(RESULTS.insert(), rows)
    latest: dict[tuple[str, str], RegionResult] = {}
    for item in found:  # one row per key: a batch may hold two results of one region
        key = (item.monitor_id, item.region)
        if key not in latest or latest[key].result.checked_at <= item.result.checked_at:
            latest[key] = item
    votes = [
        {
            "monitor_id": item.monitor_id,
            "region": item.region,
            **{c: row[c] for c in _VOTE_COLUMNS},
            "written_at": now,
        }
        for item in latest.values()
        for row in (result_row(item.monitor_id, item.result),)
    ]
    keys, columns = ["monitor_id", "region"], [*_VOTE_COLUMNS, "written_at"]
    await upsert(connection, REGION_VOTES, votes, keys, columns)


async def written_since(connection: AsyncConnection, since: datetime) -> list[RegionResult]:
    """The regions' latest results written at or after `since`."""
    query = select(REGION_VOTES).where(REGION_VOTES.c.written_at >= since)
    return [_region_result(row) for row in (await connection.execute(query)).mappings()]


async def latest_of(connection: AsyncConnection, monitor_id: str) -> list[RegionResult]:
    """Each region's latest result for one monitor (for its page and the API)."""
    query = (
        select(REGION_VOTES)
        .where(REGION_VOTES.c.monitor_id == monitor_id)
        .order_by(REGION_VOTES.c.region)
    )
    return [_region_result(row) for row in (await connection.execute(query)).mappings()]


def _region_result(row: object) -> RegionResult:
    data = dict(row)  # type: ignore[call-overload]
    duration = data["duration_ms"]
    result = ProbeResult(
        ProbeState(data["state"]),
        data["checked_at"],
        0.0 if duration is None else duration / 1000,
        cause=data["cause"],
        public_cause=data["public_cause"],
        status_code=data["status_code"],
    )
    return RegionResult(data["monitor_id"], data["region"], result)


# ---- which regions are live ---------------------------------------------------------------


async def live_regions(
    connection: AsyncConnection, now: datetime, within: timedelta
) -> frozenset[str]:
    """Regions with an instance that beat within `within`."""
    query = (
        select(INSTANCES.c.region)
        .where(INSTANCES.c.last_seen_at >= now - within, INSTANCES.c.region.is_not(None))
        .distinct()
    )
    return frozenset(str(r) for r in (await connection.execute(query)).scalars())


@dataclass(frozen=True, slots=True)
class KnownRegion:
    available: bool  # as last announced
    last_seen_at: datetime  # when one of its instances last reported it


async def known_regions(connection: AsyncConnection) -> dict[str, KnownRegion]:
    """Every region an instance ever reported: whether it counts as available, and when it
    was last seen."""
    query = select(REGIONS.c.name, REGIONS.c.available, REGIONS.c.last_seen_at)
    rows = await connection.execute(query)
    return {str(name): KnownRegion(bool(up), seen_at) for name, up, seen_at in rows}


async def seen(connection: AsyncConnection, region: str, now: datetime) -> None:
    """`region` has a live instance now (this one)."""
    row = {"name": region, "last_seen_at": now, "available": True, "changed_at": now}
    await upsert(connection, REGIONS, [row], ["name"], ["last_seen_at"])


async def flip(connection: AsyncConnection, region: str, *, available: bool, now: datetime) -> bool:
    """Mark `region` available or not; True only for the one caller that changed it (so its
    notice is enqueued exactly once, however many instances saw the change)."""
    statement = (
        update(REGIONS)
        .where(REGIONS.c.name == region, REGIONS.c.available == (not available))
        .values(available=available, changed_at=now)
    )
    changed = await connection.execute(statement)
    return changed.rowcount == 1
