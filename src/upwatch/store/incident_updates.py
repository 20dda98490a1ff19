"""Rows of what people write: declared incidents, the monitors they name, and the updates
written on any incident. Written through `store.incident_effects`, read by `store.reads`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.engine.model import EscalationProgress
from upwatch.store.tables import INCIDENT_MONITORS, INCIDENT_UPDATES, INCIDENTS, MONITORS

STATUSES = ("investigating", "identified", "monitoring", "resolved")
RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Update:
    id: int
    incident_id: int
    at: datetime
    status: str  # one of STATUSES
    body: str


async def insert_declared(
    connection: AsyncConnection,
    *,
    title: str,
    severity: str | None,
    monitor_ids: Sequence[str],
    policy_name: str | None,
    now: datetime,
) -> int:
    """A declared incident, open from `now`, naming `monitor_ids` (it is downtime of none)."""
    values = {
        "monitor_id": None,
        "started_at": now,
        "confirmed_at": now,
        "cause": title,
        "public_cause": None,
        "policy_name": policy_name,
        "progress": EscalationProgress().to_json(),
        "severity": severity,
        "title": title,
        "declared": True,
    }
    result = await connection.execute(INCIDENTS.insert().returning(INCIDENTS.c.id), values)
    incident_id = int(result.scalar_one())
    if monitor_ids:
        rows = [{"incident_id": incident_id, "monitor_id": m} for m in dict.fromkeys(monitor_ids)]
        await connection.execute(INCIDENT_MONITORS.insert(), rows)
    return incident_id


async def insert_update(
    connection: AsyncConnection, incident_id: int, at: datetime, status: str, body: str
) -> Update:
    values = {"incident_id": incident_id, "at": at, "status": status, "body": body}
    statement = INCIDENT_UPDATES.insert().returning(INCIDENT_UPDATES.c.id)
    update_id = int((await connection.execute(statement, values)).scalar_one())
    return Update(update_id, incident_id, at, status, body)


async def close_declared(connection: AsyncConnection, incident_id: int, at: datetime) -> bool:
    """Close an open declared incident; False if it was closed already (or is not declared)."""
    statement = update(INCIDENTS).where(
        INCIDENTS.c.id == incident_id,
        INCIDENTS.c.declared.is_(True),
        INCIDENTS.c.resolved_at.is_(None),
    )
    result = await connection.execute(statement, {"resolved_at": at})
    return bool(result.rowcount)


async def incident_row(connection: AsyncConnection, incident_id: int) -> Row[Any] | None:
    """The incident with its monitor's name (None for a declared one)."""
    query = (
        select(INCIDENTS, MONITORS.c.name.label("monitor_name"))
        .join(MONITORS, MONITORS.c.id == INCIDENTS.c.monitor_id, isouter=True)
        .where(INCIDENTS.c.id == incident_id)
    )
    return (await connection.execute(query)).first()


async def updates_of(
    connection: AsyncConnection, incident_ids: Sequence[int]
) -> dict[int, list[Update]]:
    """The updates of each incident, oldest first."""
    found: dict[int, list[Update]] = defaultdict(list)
    if not incident_ids:
        return found
    query = (
        select(INCIDENT_UPDATES)
        .where(INCIDENT_UPDATES.c.incident_id.in_(list(set(incident_ids))))
        .order_by(INCIDENT_UPDATES.c.at, INCIDENT_UPDATES.c.id)
    )
    for r in await connection.execute(query):
        found[r.incident_id].append(Update(r.id, r.incident_id, r.at, r.status, r.body))
    return found


async def monitors_named(
    connection: AsyncConnection, incident_ids: Sequence[int]
) -> dict[int, list[tuple[str, str]]]:
    """`(id, name)` of the monitors each declared incident names, in id order."""
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    if not incident_ids:
        return found
    query = (
        select(INCIDENT_MONITORS.c.incident_id, MONITORS.c.id, MONITORS.c.name)
        .join(MONITORS, MONITORS.c.id == INCIDENT_MONITORS.c.monitor_id)
        .where(INCIDENT_MONITORS.c.incident_id.in_(list(set(incident_ids))))
        .order_by(MONITORS.c.id)
    )
    for r in await connection.execute(query):
        found[r.incident_id].append((r.id, r.name))
    return found
