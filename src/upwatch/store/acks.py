"""Acknowledging an incident from a signed link: the web's writes and reads.

GET /ack/{token} shows the incident and POST acknowledges it (docs/http.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.engine.model import Incident
from upwatch.store.states import incident_of
from upwatch.store.tables import INCIDENTS, MONITORS


@dataclass(frozen=True, slots=True)
class AckSubject:
    """The incident an acknowledge link names, with its monitor's last known name."""

    incident: Incident
    monitor_name: str | None
    acknowledged_by: str | None


async def ack_subject(connection: AsyncConnection, incident_id: int) -> AckSubject | None:
    query = (
        select(INCIDENTS, MONITORS.c.name.label("monitor_name"))
        .join(MONITORS, MONITORS.c.id == INCIDENTS.c.monitor_id, isouter=True)
        .where(INCIDENTS.c.id == incident_id)
    )
    row = (await connection.execute(query)).first()
    if row is None:
        return None
    return AckSubject(incident_of(row), row.monitor_name, row.acknowledged_by)


async def acknowledge(connection: AsyncConnection, incident_id: int, at: datetime, by: str) -> bool:
    """Mark the incident acknowledged if it is open and not yet acknowledged; True if it was
    this call that did it (two clicks, or two people, acknowledge once)."""
    statement = update(INCIDENTS).where(
        INCIDENTS.c.id == incident_id,
        INCIDENTS.c.resolved_at.is_(None),
        INCIDENTS.c.acknowledged_at.is_(None),
    )
    result = await connection.execute(statement, {"acknowledged_at": at, "acknowledged_by": by})
    return result.rowcount == 1
