"""Incident rows: inserted when confirmed, updated as they escalate, are acknowledged or resolve."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.engine.escalation import CANCELLED_BY_ACK_OR_RESOLVE
from upwatch.engine.model import EscalationProgress, Incident
from upwatch.store.outbox import cancellable
from upwatch.store.states import incident_of, policy_json
from upwatch.store.tables import INCIDENTS, OUTBOX


def new_alert_key() -> str:
    """A fresh key for an incident's one alert in on-call services (PagerDuty's dedup_key)."""
    return str(uuid.uuid4())


async def insert_incident(connection: AsyncConnection, incident: Incident) -> int:
    values = {
        "monitor_id": incident.monitor_id,
        "started_at": incident.started_at,
        "confirmed_at": incident.confirmed_at,
        "cause": incident.cause,
        "public_cause": incident.public_cause,
        "policy_name": incident.policy_name,
        "policy": policy_json(incident.policy),
        "progress": EscalationProgress().to_json(),
        "severity": incident.severity,
        "held_by": incident.held_by,
        "escalate_from": incident.escalate_from,
        "alert_key": incident.alert_key or new_alert_key(),
    }
    result = await connection.execute(INCIDENTS.insert().returning(INCIDENTS.c.id), values)
    return int(result.scalar_one())


async def save_progress(
    connection: AsyncConnection, incident_id: int, progress: EscalationProgress
) -> None:
    statement = update(INCIDENTS).where(INCIDENTS.c.id == incident_id)
    await connection.execute(statement, {"progress": progress.to_json()})


async def save_hold(connection: AsyncConnection, incident: Incident) -> None:
    """Write whether the incident is held (flapping, a parent down) and since when it escalates."""
    assert incident.id is not None
    statement = update(INCIDENTS).where(INCIDENTS.c.id == incident.id)
    await connection.execute(
        statement, {"held_by": incident.held_by, "escalate_from": incident.escalate_from}
    )


async def resolve_incident(connection: AsyncConnection, incident: Incident) -> None:
    assert incident.id is not None
    statement = update(INCIDENTS).where(INCIDENTS.c.id == incident.id)
    resolution = None if incident.resolution is None else str(incident.resolution)
    await connection.execute(
        statement, {"resolved_at": incident.resolved_at, "resolution": resolution}
    )


async def fresh_incident(connection: AsyncConnection, incident_id: int) -> Incident | None:
    """The incident as the database has it now (another process may have acknowledged it)."""
    row = (await connection.execute(select(INCIDENTS).where(INCIDENTS.c.id == incident_id))).first()
    return None if row is None else incident_of(row)


async def cancel_unsent(connection: AsyncConnection, incident_id: int, now: datetime) -> None:
    """Acknowledgement and resolution cancel every step and reminder not yet attempted.

    A row a worker holds a live claim on is being sent right now: it stays, so its channel
    counts as told and hears about the resolution too.
    """
    statement = update(OUTBOX).where(
        OUTBOX.c.incident_id == incident_id,
        OUTBOX.c.event.in_([str(e) for e in CANCELLED_BY_ACK_OR_RESOLVE]),
        cancellable(now),
    )
    await connection.execute(statement, {"cancelled_at": now})


async def told_channels(connection: AsyncConnection, incident_id: int) -> set[str]:
    """Every channel that was sent, or attempted, any message about the incident."""
    query = select(OUTBOX.c.channel).where(
        OUTBOX.c.incident_id == incident_id, OUTBOX.c.cancelled_at.is_(None)
    )
    return {row.channel for row in await connection.execute(query.distinct())}
