"""The data behind the status page and `/api/v1/status`, built from the database and the config.

Public surfaces call these with `public_only=True`: private and archived monitors never appear,
and causes lose hostnames and URLs unless `status_page.show_urls` is on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.config.models import Config
from upwatch.engine.maintenance import MaintenanceSchedule
from upwatch.engine.model import ShownState
from upwatch.engine.payload import iso as payload_iso
from upwatch.engine.state import shown
from upwatch.probes.public_words import plain_cause
from upwatch.store import reads
from upwatch.store.reads import Interval

WINDOWS = {"24h": timedelta(hours=1 * 24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
WINDOWS["90d"] = timedelta(days=90)


def iso(value: datetime | None) -> str | None:
    """`2026-11-22T10:00:00Z`: the API's timestamps, to the second."""
    return payload_iso(value, timespec="seconds")


@dataclass(frozen=True, slots=True)
class History:
    """What uptime needs for every monitor, fetched once per request."""

    downtime: dict[str, list[Interval]]
    excluded: dict[str, list[Interval]]


def shown_state(row: Row[Any], schedule: MaintenanceSchedule, now: datetime) -> ShownState:
    in_maintenance = not row.paused and schedule.active(row.id, now) is not None
    computed = ShownState(row.state or "unknown")
    return shown(
        computed,
        paused=bool(row.paused),
        in_maintenance=in_maintenance,
        flapping=getattr(row, "flapping_since", None) is not None,
    )


def shown_cause(row: Row[Any], config: Config, *, full: bool = False) -> str | None:
    """The cause of a down or degraded monitor: in public words, unless show_urls or `full` (an
    authenticated answer) asks for the technical one."""
    if row.state not in ("down", "degraded"):
        return None
    if full or config.status_page.show_urls:
        cause: str | None = row.last_cause
        return cause
    return plain_cause(row.last_public_cause)


async def load_history(connection: AsyncConnection, now: datetime) -> History:
    start = now - max(WINDOWS.values())
    return History(
        await reads.downtime_since(connection, start), await reads.excluded_since(connection, start)
    )


def overall_status(states: Sequence[ShownState]) -> str:
    """The page's and the API's one word. Monitors with no result yet (UNKNOWN) are left out of
    the count: they are neither working nor failing, and "operational" must not speak for them."""
    known = [s for s in states if s is not ShownState.UNKNOWN]
    if not known:
        return "unknown"
    down = sum(s is ShownState.DOWN for s in known)
    if down > len(known) / 2:
        return "major_outage"
    if down:
        return "partial_outage"
    if ShownState.DEGRADED in known or ShownState.FLAPPING in known:
        return "degraded"
    if ShownState.MAINTENANCE in known:
        return "maintenance"
    return "operational"
