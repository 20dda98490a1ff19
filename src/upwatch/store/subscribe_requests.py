"""The `POST /subscribe` limit per client address, counted in the database so that every
worker and instance shares it (each process's own count only stops floods before they cost a
write). Addresses are kept as a keyed hash, and only for the hour they count."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.store.tables import SUBSCRIBE_REQUESTS

PER_HOUR = 5
WINDOW = timedelta(hours=1)


def client_key(address: str, secret: str) -> str:
    """The stored stand-in for a client address: not reversible without the secret key."""
    digest = hmac.new(secret.encode(), b"subscribe:" + address.encode(), hashlib.sha256)
    return digest.hexdigest()


async def allow(connection: AsyncConnection, client: str, now: datetime) -> timedelta | None:
    """None when this request may go ahead (and is counted); else how long until one may."""
    table = SUBSCRIBE_REQUESTS
    await connection.execute(delete(table).where(table.c.at <= now - WINDOW))
    query = select(func.count(), func.min(table.c.at)).where(table.c.client == client)
    count, oldest = (await connection.execute(query)).one()
    if count >= PER_HOUR and isinstance(oldest, datetime):
        return oldest + WINDOW - now
    await connection.execute(insert(table).values(client=client, at=now))
    return None
