"""Reconciling the monitors in the config with the monitors in the database.

Same `id` = same history. An id gone from the file is archived (history kept) and restored when it
comes back; pausing and archiving open a period that uptime leaves out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.config.models import (
    Config,
    DnsMonitor,
    HeartbeatMonitor,
    HttpMonitor,
    MonitorBase,
    TcpMonitor,
)
from upwatch.store.tables import INCIDENTS, MONITORS, PERIODS, STATES

RECONCILE_LOCK_KEY = 0x75707772  # "upwr": advisory lock id (migrations use "upwa")


@dataclass(slots=True)
class Reconciled:
    """What changed; the daemon turns `paused` and `archived` into incident resolutions."""

    created: list[str] = field(default_factory=list)
    paused: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)


def display_target(monitor: MonitorBase, redact: Callable[[str], str]) -> str | None:
    """What a page may show as the target when `show_urls` is on: no credentials, no query."""
    if isinstance(monitor, HttpMonitor):
        parts = urlsplit(monitor.url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return redact(f"{parts.scheme}://{host}{port}{parts.path}")
    if isinstance(monitor, TcpMonitor):
        return redact(f"{monitor.host}:{monitor.port}")
    if isinstance(monitor, DnsMonitor):
        return redact(f"{monitor.hostname} {monitor.record_type}")
    return None


def _info(monitor: MonitorBase, redact: Callable[[str], str]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "description": None if monitor.description is None else redact(monitor.description),
        "tags": [redact(tag) for tag in monitor.tags],
        "failure_threshold": monitor.failure_threshold,
        "recovery_threshold": monitor.recovery_threshold,
    }
    if isinstance(monitor, HeartbeatMonitor):
        info["grace_seconds"] = monitor.grace.total_seconds()
    return info


def _values(
    monitor: MonitorBase, redact: Callable[[str], str], generation: int | None, now: datetime
) -> dict[str, Any]:
    # Pages, the API and notifications show these rows: redacted here, where they are written.
    return {
        "name": redact(monitor.name),
        "group_name": None if monitor.group is None else redact(monitor.group),
        "type": monitor.type,  # type: ignore[attr-defined]
        "target": display_target(monitor, redact),
        "interval_seconds": monitor.interval.total_seconds(),
        "public": monitor.public,
        "paused": monitor.paused,
        "updated_at": now,
        "archived_at": None,
        "generation": generation,
        "info": _info(monitor, redact),
    }


async def reconcile(
    connection: AsyncConnection,
    config: Config,
    now: datetime,
    *,
    redact: Callable[[str], str] = lambda s: s,
    generation: int | None = None,
) -> Reconciled:
    if connection.dialect.name == "postgresql":
        # Instances starting together would both insert a new monitor: one after the other.
        # (SQLite's single writer serializes them already.) Released at commit.
        await connection.execute(text(f"SELECT pg_advisory_xact_lock({RECONCILE_LOCK_KEY})"))
    rows = {r.id: r for r in await connection.execute(select(MONITORS))}
    changes = Reconciled()
    for monitor in config.monitors:
        values = _values(monitor, redact, generation, now)
        row = rows.get(monitor.id)
        if row is None:
            await _create(connection, monitor.id, values, now)
            changes.created.append(monitor.id)
            if monitor.paused:
                await _open_period(connection, monitor.id, "paused", now)
            continue
        await connection.execute(update(MONITORS).where(MONITORS.c.id == monitor.id), values)
        await _track(connection, changes, row, monitor.paused, now)
    wanted = {m.id for m in config.monitors}
    for row in rows.values():
        if row.id not in wanted and row.archived_at is None:
            await _archive(connection, row.id, now)
            changes.archived.append(row.id)
    return changes


async def _create(
    connection: AsyncConnection, monitor_id: str, values: dict[str, Any], now: datetime
) -> None:
    await connection.execute(MONITORS.insert(), {"id": monitor_id, "created_at": now, **values})
    state = {"monitor_id": monitor_id, "state": "unknown", "updated_at": now}
    await connection.execute(STATES.insert(), state)


async def _track(
    connection: AsyncConnection, changes: Reconciled, row: Any, paused: bool, now: datetime
) -> None:
    if row.archived_at is not None:
        await _close_period(connection, row.id, "archived", now)
        changes.restored.append(row.id)
    if paused and not row.paused:
        await _open_period(connection, row.id, "paused", now)
        changes.paused.append(row.id)
    elif not paused and row.paused:
        await _close_period(connection, row.id, "paused", now)
        changes.resumed.append(row.id)


async def _archive(connection: AsyncConnection, monitor_id: str, now: datetime) -> None:
    statement = update(MONITORS).where(MONITORS.c.id == monitor_id)
    await connection.execute(statement, {"archived_at": now, "updated_at": now})
    await _open_period(connection, monitor_id, "archived", now)


async def _open_period(
    connection: AsyncConnection, monitor_id: str, kind: str, now: datetime
) -> None:
    row = {"monitor_id": monitor_id, "kind": kind, "started_at": now}
    await connection.execute(PERIODS.insert(), row)


async def _close_period(
    connection: AsyncConnection, monitor_id: str, kind: str, now: datetime
) -> None:
    statement = update(PERIODS).where(
        PERIODS.c.monitor_id == monitor_id, PERIODS.c.kind == kind, PERIODS.c.ended_at.is_(None)
    )
    await connection.execute(statement, {"ended_at": now})


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """Where a monitor stands in pausing and archiving, as the database says.

    The instance that evaluates a monitor may not be the one that reconciled the config, so it
    applies these facts when it takes the monitor: `stopped` (paused or archived since
    `stopped_at`) resolves an open incident; `resumed_at` (the end of the last such period)
    starts the state afresh if it has not been since.
    """

    stopped: str | None  # "paused" | "archived"
    stopped_at: datetime | None
    resumed_at: datetime | None


async def lifecycles(connection: AsyncConnection, monitor_ids: list[str]) -> dict[str, Lifecycle]:
    """The lifecycle of each of `monitor_ids` that was ever paused or archived."""
    periods: dict[str, list[Any]] = {}
    for start in range(0, len(monitor_ids), 500):
        chunk = monitor_ids[start : start + 500]
        query = select(PERIODS).where(PERIODS.c.monitor_id.in_(chunk))
        for period in await connection.execute(query):
            periods.setdefault(period.monitor_id, []).append(period)
    return {monitor_id: _lifecycle(rows) for monitor_id, rows in periods.items()}


def _lifecycle(periods: list[Any]) -> Lifecycle:
    """Archived wins over paused while both are open (a paused monitor removed from the file)."""
    open_ = [p for p in periods if p.ended_at is None]
    if open_:
        kind = "archived" if any(p.kind == "archived" for p in open_) else "paused"
        return Lifecycle(kind, min(p.started_at for p in open_), None)
    return Lifecycle(None, None, max(p.ended_at for p in periods))


async def archived_with_open_incident(connection: AsyncConnection) -> list[str]:
    """Monitors gone from the config whose incident still awaits its "monitor removed"."""
    query = (
        select(MONITORS.c.id)
        .join(INCIDENTS, INCIDENTS.c.monitor_id == MONITORS.c.id)
        .where(MONITORS.c.archived_at.is_not(None), INCIDENTS.c.resolved_at.is_(None))
    )
    return list((await connection.execute(query)).scalars())
