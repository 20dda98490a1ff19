"""Everything that happens to an incident, written together with the messages it causes.

One function per change, each run inside the caller's transaction, so the change and its
outbox rows commit or roll back together (a crash between them can neither announce what did
not happen nor lose an announcement of what did). The evaluator (results, time, holds) and the
acknowledge link in the web app both go through here; nothing else writes incident rows.

- `open_incident`: insert a confirmed incident (its messages come from `escalate`).
- `escalate`: fire the steps and reminders due now, unless acknowledged, held or in maintenance.
- `hold`: record that no step may fire now (flapping, a parent down), or that a hold ended.
- `resolve`: close it, cancel what was not sent, tell every channel told anything (unless the
  resolution is quiet), and add its time to the rollups.
- `acknowledge`: mark it acknowledged (once), cancel what was not sent, tell the told channels.

Opening and resolving a public incident also enqueue one row for email subscribers (when anyone
is subscribed; see `upwatch.store.subscribers`), in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.engine import escalation
from upwatch.engine.model import EscalationProgress, EventType, Incident
from upwatch.store import incidents as rows
from upwatch.store import subscribers
from upwatch.store.acks import acknowledge as mark_acknowledged
from upwatch.store.outbox import enqueue
from upwatch.store.rollups import add_downtime


@dataclass(frozen=True, slots=True)
class Acknowledged:
    incident: Incident
    told: tuple[str, ...]  # the channels told of the acknowledgement


async def open_incident(connection: AsyncConnection, incident: Incident) -> Incident:
    """Insert a newly confirmed incident; returns it with its id and its alert key."""
    incident = replace(incident, alert_key=incident.alert_key or rows.new_alert_key())
    incident = replace(incident, id=await rows.insert_incident(connection, incident))
    if incident.held_by != "flapping":  # a flapping monitor would mail subscribers every flip
        at = incident.confirmed_at
        await subscribers.enqueue_incident(connection, incident, EventType.INCIDENT_OPENED, at, at)
    return incident


async def escalate(
    connection: AsyncConnection,
    incident: Incident,
    progress: EscalationProgress,
    now: datetime,
    *,
    in_maintenance: bool,
) -> tuple[Incident, EscalationProgress]:
    """Enqueue the steps and reminders due at `now`; returns the incident as the database has
    it (another process may have acknowledged it) and the progress to keep."""
    incident_id = incident.id
    assert incident_id is not None
    incident = await fresh(connection, incident)
    notices, progress = escalation.due_notices(
        incident, progress, now, in_maintenance=in_maintenance
    )
    if notices:
        await enqueue(connection, notices, now)
    await rows.save_progress(connection, incident_id, progress)
    return incident, progress


async def hold(connection: AsyncConnection, incident: Incident) -> None:
    """Write the incident's hold (`held_by`, `escalate_from`) as the engine decided it."""
    await rows.save_hold(connection, incident)


async def resolve(
    connection: AsyncConnection, incident: Incident, now: datetime, *, quiet: bool = False
) -> Incident:
    """Close `incident` (its `resolved_at` and `resolution` set by the engine)."""
    incident_id, resolved_at = incident.id, incident.resolved_at
    assert incident_id is not None
    assert resolved_at is not None
    # The web may have acknowledged it since it was loaded: the resolution must say so.
    incident = await fresh(connection, incident)
    await rows.resolve_incident(connection, incident)
    await rows.cancel_unsent(connection, incident_id, now)
    if not quiet:
        told = await rows.told_channels(connection, incident_id)
        notices = escalation.resolved_notices(incident, told, resolved_at)
        await enqueue(connection, notices, now)
        event = EventType.INCIDENT_RESOLVED
        await subscribers.enqueue_incident(connection, incident, event, resolved_at, now)
    await add_downtime(connection, incident.monitor_id, incident.started_at, resolved_at)
    return incident


async def acknowledge(
    connection: AsyncConnection, incident: Incident, now: datetime, by: str
) -> Acknowledged | None:
    """Acknowledge `incident` if it is open and not yet acknowledged (None otherwise: two
    clicks, or two people, acknowledge once)."""
    assert incident.id is not None
    if not await mark_acknowledged(connection, incident.id, now, by):
        return None
    await rows.cancel_unsent(connection, incident.id, now)
    told = await rows.told_channels(connection, incident.id)
    acknowledged = replace(incident, acknowledged_at=now)
    await enqueue(connection, escalation.acknowledged_notices(acknowledged, told, now), now)
    return Acknowledged(acknowledged, tuple(sorted(told)))


async def fresh(connection: AsyncConnection, incident: Incident) -> Incident:
    """`incident` with the acknowledgement the database has now (the web writes it)."""
    assert incident.id is not None
    found = await rows.fresh_incident(connection, incident.id)
    if found is None or found.acknowledged_at == incident.acknowledged_at:
        return incident
    return replace(incident, acknowledged_at=found.acknowledged_at)
