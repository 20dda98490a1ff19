"""When each monitor is probed: a fixed phase within its interval, and its shard.

Every monitor with interval I fires at the instants t with (t - epoch) ≡ phase (mod I), where the
phase comes from the monitor's id. So 10,000 monitors at 60 s spread over the minute instead of
firing together, a restart (or another process) resumes the very same instants, and since each
instant is computed from the epoch rather than from the previous one, there is no drift.

Both the phase and the shard use `zlib.crc32`: Python's `hash()` of a string differs between
processes (PYTHONHASHSEED), which would move every phase and shard on each restart.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SHARDS = 64
_MICROSECOND = timedelta(microseconds=1)


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


M = TypeVar("M", bound=_HasId)


def shard_of(monitor_id: str) -> int:
    """Which of the 64 shards owns the monitor: the crc32 of its id, modulo 64."""
    return _crc32(monitor_id) % SHARDS


def in_shards(monitors: Iterable[M], shards: set[int]) -> list[M]:
    """The monitors (anything with an `id`) that belong to `shards`."""
    return [m for m in monitors if shard_of(m.id) in shards]


def phase_offset(monitor_id: str, interval: timedelta) -> timedelta:
    """The monitor's offset within each interval, in [0, interval)."""
    # The checksum read as a fraction of 2**32, scaled to the interval.
    return timedelta(microseconds=(_crc32(monitor_id) * _period(interval)) >> 32)


def next_fire(monitor_id: str, interval: timedelta, now: datetime) -> datetime:
    """The first instant at or after `now` on the monitor's grid of phase + k * interval."""
    period = _period(interval)
    phase = phase_offset(monitor_id, interval) // _MICROSECOND
    elapsed = (now - EPOCH) // _MICROSECOND - phase
    periods = -(-elapsed // period)  # ceiling division
    return EPOCH + timedelta(microseconds=phase + periods * period)


def _crc32(monitor_id: str) -> int:
    return zlib.crc32(monitor_id.encode())


def _period(interval: timedelta) -> int:
    period = interval // _MICROSECOND
    if period <= 0:
        raise ValueError("an interval must be longer than zero")
    return period
