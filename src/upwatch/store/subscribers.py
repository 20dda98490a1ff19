"""Email subscribers and the outbox rows that reach them.

Subscriber messages never share an outbox row with the team's: each row goes to one subscriber
(channel `subscriber:<id>`), and none carries an `incident_id`, so subscriber rows are neither
"told channels" of an incident (they get no acknowledgement or escalation news) nor cancelled by
an acknowledgement. The incident's id travels in the payload and in the key.

Fan-out happens in two steps, so the evaluator's transaction stays small however many people
subscribe: opening or resolving a public incident enqueues ONE row (channel `subscribers`, key
`subscribers:<incident>:<event>`) in the transaction of the change, and only when someone is
subscribed; the delivery worker turns that row into one row per confirmed subscriber (key
`subscriber:<incident>:<event>:<subscriber>`, inserted once) in the transaction that marks it done.

The address is read only to send; it is never returned to the web layer, logged or counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.engine.model import EventType, Incident
from upwatch.store.tables import MONITORS, OUTBOX, SUBSCRIBERS
from upwatch.store.upsert import insert_ignore

FAN_OUT = "subscribers"  # the channel of the one row an incident event enqueues
RECIPIENT = "subscriber:"  # + id: the channel of a row for one subscriber
CONFIRM_EVENT = "subscription.confirm"
# Subscribing again within this many seconds sends no second confirmation (one row per window).
CONFIRM_WINDOW = 15 * 60


@dataclass(frozen=True, slots=True)
class Recipient:
    address: str
    confirmed: bool
    unsubscribed: bool

    @property
    def active(self) -> bool:
        return self.confirmed and not self.unsubscribed


def recipient_channel(subscriber_id: int) -> str:
    return f"{RECIPIENT}{subscriber_id}"


def subscriber_of(channel: str) -> int | None:
    """The subscriber an outbox row's channel names; None for the team's channels."""
    if not channel.startswith(RECIPIENT):
        return None
    digits = channel.removeprefix(RECIPIENT)
    return int(digits) if digits.isascii() and digits.isdigit() else None


def is_subscriber_row(channel: str) -> bool:
    """A fan-out row or a row for one subscriber (not a configured channel's)."""
    return channel == FAN_OUT or subscriber_of(channel) is not None


def _active() -> Any:
    return and_(SUBSCRIBERS.c.confirmed_at.is_not(None), SUBSCRIBERS.c.unsubscribed_at.is_(None))


async def subscribe(connection: AsyncConnection, address: str, now: datetime) -> int | None:
    """Record `address` as pending; returns the id to send a confirmation to, or None when it
    is subscribed already (nothing to confirm)."""
    row = {"address": address, "created_at": now}
    await insert_ignore(connection, SUBSCRIBERS, [row], ["address"])
    query = select(SUBSCRIBERS).where(SUBSCRIBERS.c.address == address)
    found = (await connection.execute(query)).one()
    if found.confirmed_at is not None and found.unsubscribed_at is None:
        return None
    if found.unsubscribed_at is not None:  # subscribing again: confirm again
        reset = {"confirmed_at": None, "unsubscribed_at": None}
        await connection.execute(update(SUBSCRIBERS).where(SUBSCRIBERS.c.id == found.id), reset)
    return int(found.id)


async def enqueue_confirmation(
    connection: AsyncConnection, subscriber_id: int, now: datetime
) -> None:
    window = int(now.timestamp()) // CONFIRM_WINDOW
    row = _row(
        f"subscribe:{subscriber_id}:{window}",
        CONFIRM_EVENT,
        recipient_channel(subscriber_id),
        None,
        {"subscriber": subscriber_id, "issued_at": now.isoformat()},
        now,
        now,
    )
    await insert_ignore(connection, OUTBOX, [row], ["key"])


async def confirm(connection: AsyncConnection, subscriber_id: int, now: datetime) -> bool:
    """Confirm a pending subscription; False when there is none to confirm (unknown id, or
    unsubscribed since the link was sent)."""
    pending = update(SUBSCRIBERS).where(
        SUBSCRIBERS.c.id == subscriber_id,
        SUBSCRIBERS.c.confirmed_at.is_(None),
        SUBSCRIBERS.c.unsubscribed_at.is_(None),
    )
    if (await connection.execute(pending, {"confirmed_at": now})).rowcount == 1:
        return True
    query = select(SUBSCRIBERS.c.id).where(SUBSCRIBERS.c.id == subscriber_id, _active())
    return (await connection.execute(query)).first() is not None


async def unsubscribe(connection: AsyncConnection, subscriber_id: int, now: datetime) -> None:
    """Stop every message to the subscriber, now and later (a second call changes nothing)."""
    statement = update(SUBSCRIBERS).where(
        SUBSCRIBERS.c.id == subscriber_id, SUBSCRIBERS.c.unsubscribed_at.is_(None)
    )
    await connection.execute(statement, {"unsubscribed_at": now})


async def recipient(connection: AsyncConnection, subscriber_id: int) -> Recipient | None:
    query = select(SUBSCRIBERS).where(SUBSCRIBERS.c.id == subscriber_id)
    row = (await connection.execute(query)).first()
    if row is None:
        return None
    return Recipient(row.address, row.confirmed_at is not None, row.unsubscribed_at is not None)


async def enqueue_incident(
    connection: AsyncConnection, incident: Incident, event: EventType, at: datetime, now: datetime
) -> bool:
    """`enqueue_news` for a monitor's incident opening or resolving (`incident_effects`)."""
    assert incident.id is not None
    payload = {
        "started_at": incident.started_at.isoformat(),
        "resolved_at": None if incident.resolved_at is None else incident.resolved_at.isoformat(),
        "cause": incident.public_cause,  # the public form: no hosts, addresses or URLs
    }
    return await enqueue_news(
        connection,
        incident_id=incident.id,
        monitor_id=incident.monitor_id,
        event=event,
        at=at,
        now=now,
        payload=payload,
    )


async def enqueue_news(
    connection: AsyncConnection,
    *,
    incident_id: int,
    monitor_id: str | None,
    event: EventType,
    at: datetime,
    now: datetime,
    payload: dict[str, Any],
    occurrence: str = "",
) -> bool:
    """Enqueue the fan-out row for `event` on an incident if it is public (its monitor is
    public, or it is a declared incident naming no monitor) and someone is subscribed: one
    indexed query otherwise. A resolution of a monitor's incident is news only to those told
    it opened. `occurrence` tells apart events that happen more than once per incident (each
    written update). Returns whether a row was enqueued."""
    wanted = select(literal(1)).where(exists().where(_active()))
    if monitor_id is not None:
        public = select(MONITORS.c.id).where(
            MONITORS.c.id == monitor_id, MONITORS.c.public.is_(True)
        )
        wanted = wanted.where(exists(public))
        if event is EventType.INCIDENT_RESOLVED:
            opened = f"{FAN_OUT}:{incident_id}:{EventType.INCIDENT_OPENED}"
            wanted = wanted.where(exists().where(OUTBOX.c.key == opened))
    if (await connection.execute(wanted)).first() is None:
        return False
    key = f"{FAN_OUT}:{incident_id}:{event}{occurrence}"
    payload = {**payload, "incident": incident_id}
    row = _row(key, str(event), FAN_OUT, monitor_id, payload, at, now)
    return await insert_ignore(connection, OUTBOX, [row], ["key"]) == 1


async def fan_out(
    connection: AsyncConnection,
    *,
    key: str,
    event: str,
    monitor_id: str | None,
    payload: dict[str, Any],
    at: datetime,
    now: datetime,
) -> int:
    """One row per confirmed subscriber for the fan-out row `key`; returns how many were new."""
    query = select(SUBSCRIBERS.c.id).where(_active())
    ids = [int(r.id) for r in await connection.execute(query)]
    suffix = key.removeprefix(f"{FAN_OUT}:")
    rows = [
        _row(
            f"subscriber:{suffix}:{i}",
            event,
            recipient_channel(i),
            monitor_id,
            {**payload, "subscriber": i},
            at,
            now,
        )
        for i in ids
    ]
    return await insert_ignore(connection, OUTBOX, rows, ["key"])


def _row(  # noqa: PLR0917 - one outbox row's columns, in the table's order
    key: str,
    event: str,
    channel: str,
    monitor_id: str | None,
    payload: dict[str, Any],
    at: datetime,
    now: datetime,
) -> dict[str, Any]:
    return {
        "key": key,
        "event": event,
        "channel": channel,
        "monitor_id": monitor_id,
        "incident_id": None,  # see the module docstring
        "step": None,
        "repeat": 0,
        "payload": payload,
        "event_at": at,
        "created_at": now,
        "next_attempt_at": now,
    }
