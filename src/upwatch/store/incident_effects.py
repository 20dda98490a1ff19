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

Opening and resolving a public incident, and each written update on one, also enqueue one row
for email subscribers (when anyone is subscribed; see `upwatch.store.subscribers`), in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.config.models import Config
from upwatch.engine import escalation
from upwatch.engine.context import policy_steps
from upwatch.engine.model import EscalationProgress, EventType, Incident, Notice
from upwatch.engine.payload import iso, update_data
from upwatch.store import incident_updates as written
from upwatch.store import incidents as rows
from upwatch.store import subscribers
from upwatch.store.acks import acknowledge as mark_acknowledged
from upwatch.store.outbox import enqueue
from upwatch.store.rollups import add_downtime
from upwatch.store.tables import MONITORS


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


class NoSuchIncident(LookupError):
    """The incident id names no incident."""


class UnknownMonitors(ValueError):
    """A declared incident names monitors that do not exist (or are archived)."""

    def __init__(self, ids: Sequence[str]) -> None:
        super().__init__(f"no such monitor: {', '.join(ids)}")
        self.ids = tuple(ids)


@dataclass(frozen=True, slots=True)
class Written:
    incident_id: int
    update: written.Update
    closed: bool  # this update closed the (declared) incident
    told: tuple[str, ...]  # the channels the update is sent to


async def declare(
    connection: AsyncConnection,
    config: Config,
    *,
    title: str,
    body: str,
    status: str,
    monitor_ids: Sequence[str],
    severity: str | None,
    now: datetime,
) -> Written:
    """Declare an incident (open from `now`, or closed at once if `status` is resolved) with
    `body` as its first update, sent like every update."""
    ids = list(dict.fromkeys(monitor_ids))
    if ids:
        query = select(MONITORS.c.id).where(
            MONITORS.c.id.in_(ids), MONITORS.c.archived_at.is_(None)
        )
        live = {r.id for r in await connection.execute(query)}
        missing = [m for m in ids if m not in live]
        if missing:
            raise UnknownMonitors(missing)
    incident_id = await written.insert_declared(
        connection,
        title=title,
        severity=severity,
        monitor_ids=ids,
        policy_name=config.status_page.updates_policy,
        now=now,
    )
    return await add_update(connection, config, incident_id, status=status, body=body, now=now)


async def add_update(
    connection: AsyncConnection,
    config: Config,
    incident_id: int,
    *,
    status: str,
    body: str,
    now: datetime,
) -> Written:
    """Record an update on incident `incident_id` and enqueue its `incident.updated` messages,
    in the caller's transaction. Raises NoSuchIncident."""
    if status not in written.STATUSES:
        raise ValueError(f"status must be one of {', '.join(written.STATUSES)}")
    row = await written.incident_row(connection, incident_id)
    if row is None:
        raise NoSuchIncident(incident_id)
    update = await written.insert_update(connection, incident_id, now, status, body)
    closed = False
    if row.declared and status == written.RESOLVED:
        closed = await written.close_declared(connection, incident_id, now)
    channels = await rows.told_channels(connection, incident_id)
    severity = row.severity or "critical"
    if row.declared:
        step = next(
            (s for s in policy_steps(config, row.policy_name) if s.fires_for(severity)), None
        )
        channels |= set(() if step is None else step.channels)
    named = await written.monitors_named(connection, [incident_id]) if row.declared else {}
    first = named.get(incident_id)
    monitor_id = row.monitor_id if not row.declared else (first[0][0] if first else None)
    data = update_data(
        monitor_id=monitor_id,
        severity=severity,
        incident=_incident_data(row, now if closed else row.resolved_at, now),
        update={
            "id": update.id,
            "at": iso(update.at),
            "status": update.status,
            "body": update.body,
            "title": row.title or row.monitor_name or row.monitor_id,
            "declared": bool(row.declared),
        },
    )
    notices = [
        Notice(
            EventType.INCIDENT_UPDATED,
            channel,
            monitor_id,
            at=now,
            incident_id=incident_id,
            data=data,
            # One message per update and channel (the key's subject names the update).
            subject=f"incident:{incident_id}:update:{update.id}",
        )
        for channel in sorted(channels)
    ]
    if notices:
        await enqueue(connection, notices, now)
    news = {
        "title": row.title if row.declared else None,  # a monitor's incident: its name
        "status": update.status,
        "body": update.body,
        "started_at": row.started_at.isoformat(),
    }
    await subscribers.enqueue_news(
        connection,
        incident_id=incident_id,
        monitor_id=monitor_id,
        event=EventType.INCIDENT_UPDATED,
        at=now,
        now=now,
        payload=news,
        occurrence=f":{update.id}",
    )
    return Written(incident_id, update, closed, tuple(sorted(channels)))


def _incident_data(row: Any, resolved_at: datetime | None, now: datetime) -> dict[str, Any]:
    """The incident part of an update's payload, in the shape of `payload.incident_data`."""
    end = resolved_at or now
    return {
        "id": row.id,
        "started_at": iso(row.started_at),
        "confirmed_at": iso(row.confirmed_at),
        "resolved_at": iso(resolved_at),
        "resolution": row.resolution if resolved_at is not None else None,
        "duration_seconds": max(0, int((end - row.started_at).total_seconds())),
        "acknowledged": row.acknowledged_at is not None,
        "acknowledged_at": iso(row.acknowledged_at),
        "step": None,
        "repeat": 0,
        "cause": row.cause,
        "policy": row.policy_name,
        "held_by": row.held_by,
        "alert_key": row.alert_key,
        "title": row.title or row.monitor_name or row.monitor_id,
        "declared": bool(row.declared),
    }


async def fresh(connection: AsyncConnection, incident: Incident) -> Incident:
    """`incident` with the acknowledgement the database has now (the web writes it)."""
    assert incident.id is not None
    found = await rows.fresh_incident(connection, incident.id)
    if found is None or found.acknowledged_at == incident.acknowledged_at:
        return incident
    return replace(incident, acknowledged_at=found.acknowledged_at)
