"""Shards on SQLite: kernel-held byte-range locks on a file beside the database.

One byte per shard (0-63) in `<database>-shards`; an instance holds a shard while it holds the
lock on its byte. The kernel drops every lock the instant its process dies (SIGKILL, OOM, crash),
so a restarted instance takes the shards at once instead of waiting for leases to expire, and two
live processes can never hold one shard. Each instance also holds one "seat" byte (64 and up):
counting the held seats tells exactly how many instances are alive on this machine, where a
heartbeat row of a killed instance would count as alive for a while and halve the share.

Open file description locks (Linux's F_OFD_SETLK) belong to the open file, not the process, so two
instances in one process (the tests, workers sharing a parent) exclude each other too. Where the
platform lacks them, classic POSIX locks do the same between processes.
"""

from __future__ import annotations

import fcntl
import os
import struct
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from upwatch.engine.phase import SHARDS

SEATS = 256  # instances one machine may run on one database file
_SET = getattr(fcntl, "F_OFD_SETLK", None)
_GET = getattr(fcntl, "F_OFD_GETLK", None)
# struct flock on Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid,
# padded to 32 bytes; l_pid must be 0 for open file description locks.
_FLOCK = "hhqqi4x"


def lock_path(engine: AsyncEngine) -> Path | None:
    """`<database>-shards` beside a file database; None for an in-memory one."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database).with_name(Path(database).name + "-shards")


class FileShardLocks:
    """`ShardLocks` on one lock file: take, keep and give back are single system calls."""

    def __init__(self, path: Path | None) -> None:
        if path is None:  # an in-memory database lives in this process alone
            with tempfile.TemporaryFile() as anonymous:
                self.fd = os.dup(anonymous.fileno())
        else:
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self.seat = self._take_seat()

    def _take_seat(self) -> int:
        for seat in range(SHARDS, SHARDS + SEATS):
            if self._lock(seat):
                return seat
        raise OSError(f"more than {SEATS} instances on one database file")

    def _lock(self, offset: int) -> bool:
        try:
            if _SET is None:
                fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
            else:
                fcntl.fcntl(self.fd, _SET, struct.pack(_FLOCK, fcntl.F_WRLCK, 0, offset, 1, 0))
        except (BlockingIOError, PermissionError):  # held by another instance
            return False
        return True

    def _unlock(self, offset: int) -> None:
        if _SET is None:
            fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, offset)
        else:
            fcntl.fcntl(self.fd, _SET, struct.pack(_FLOCK, fcntl.F_UNLCK, 0, offset, 1, 0))

    def _held_elsewhere(self, offset: int) -> bool:
        if _GET is None:  # POSIX locks: ask by trying (our own seat is skipped by the caller)
            if self._lock(offset):
                self._unlock(offset)
                return False
            return True
        probe = struct.pack(_FLOCK, fcntl.F_WRLCK, 0, offset, 1, 0)
        answer = fcntl.fcntl(self.fd, _GET, probe)
        return bool(struct.unpack(_FLOCK, answer)[0] != fcntl.F_UNLCK)

    def live(self, counted: int) -> int:
        """Instances sharing the shards: those that beat recently (`counted`, which leaves out
        one that stepped down for a newer config) and hold a seat (which leaves out one that
        was killed: its seat is free the moment it died). Each count errs only one way."""
        others = range(SHARDS, SHARDS + SEATS)
        seats = 1 + sum(1 for seat in others if seat != self.seat and self._held_elsewhere(seat))
        return max(1, min(seats, counted))

    async def take(self, shard: int, now: datetime) -> bool:
        return self._lock(shard)

    async def keep(self, held: set[int], now: datetime) -> set[int]:
        return held  # the kernel keeps them for as long as this process lives

    async def confirmed(self, connection: AsyncConnection, held: set[int], now: datetime) -> bool:
        return True

    async def give_back(self, shard: int) -> None:
        self._unlock(shard)

    async def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # drops every lock this instance held
            self.fd = -1
