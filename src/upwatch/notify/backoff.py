"""When to try a message again: exponential backoff with jitter, for up to 24 h.

Attempt n (1-based) that failed waits about `FIRST_DELAY * 2**(n-1)`, capped at `MAX_DELAY`, with
±20 % jitter so a receiver that comes back is not hit by every message in the same second. A
receiver's `Retry-After` replaces the computed delay. Nothing is tried after `GIVE_UP_AFTER` from
the message's creation: the last attempt happens at that deadline at the latest.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

FIRST_DELAY = timedelta(seconds=10)
MAX_DELAY = timedelta(minutes=30)
GIVE_UP_AFTER = timedelta(hours=24)
JITTER = 0.2


def delay(attempts: int, rng: random.Random) -> timedelta:
    """The wait after `attempts` failed attempts, jittered."""
    exponent = min(max(attempts - 1, 0), 20)  # 2**20 * 10 s is far past the cap already
    base = min(FIRST_DELAY * (1 << exponent), MAX_DELAY)
    return base * (1 + rng.uniform(-JITTER, JITTER))


def next_attempt(
    *,
    attempts: int,
    created_at: datetime,
    now: datetime,
    retry_after: timedelta | None,
    rng: random.Random,
) -> datetime | None:
    """When to try again, or None when the message has been tried for long enough."""
    deadline = created_at + GIVE_UP_AFTER
    if now >= deadline:
        return None
    wait = retry_after if retry_after is not None else delay(attempts, rng)
    return min(now + wait, deadline)
