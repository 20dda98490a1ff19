"""Which heartbeat check-ins are stored: at most one success per second per monitor.

A cron job in a retry loop, or a script pinging on every item it processes, can send hundreds of
check-ins a second; each stored one is a result row and an evaluation. They all say the same
thing, so a success within a second of the last stored success is answered 200 and counted, not
stored. A check-in of the other kind (a success after a `/fail`, or a `/fail` after a success)
always changes the story and is always stored, and so is every failure: consecutive failures
count towards `failure_threshold`.

The gate is per process and in memory: it only thins a burst, it is not a guarantee across
instances (each may store one success per second).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

MIN_SUCCESS_GAP = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Stored:
    at: datetime
    ok: bool


@dataclass(slots=True)
class CheckinGate:
    last: dict[str, Stored] = field(default_factory=dict)  # by monitor id: the last one stored
    coalesced: int = 0  # successes answered but not stored, since start

    def admit(self, monitor_id: str, at: datetime, *, ok: bool) -> bool:
        """Whether to store this check-in (and remember it as the last stored)."""
        previous = self.last.get(monitor_id)
        if ok and previous is not None and previous.ok and _within_gap(previous.at, at):
            self.coalesced += 1
            return False
        self.last[monitor_id] = Stored(at, ok)
        return True


def _within_gap(stored_at: datetime, at: datetime) -> bool:
    return stored_at <= at < stored_at + MIN_SUCCESS_GAP
