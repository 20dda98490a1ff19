"""A small stale-while-revalidate cache for rendered pages.

A value younger than `fresh_for` seconds is served as is. An older one is still served while a
single background task rebuilds it, so no request waits for a rendering of a thousand monitors;
only a missing value, or one older than `stale_for`, makes a request wait (and concurrent
requests share that one build). If a rebuild fails (the database is away), the last good value
keeps being served with its own "updated at" time, which beats an error page on a status page.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import structlog

T = TypeVar("T")
log = structlog.get_logger("upwatch.pages")


@dataclass(frozen=True, slots=True)
class _Entry:
    value: Any
    made_at: float
    version: int


class PageCache:
    def __init__(
        self,
        *,
        fresh_for: float = 5.0,
        changed_after: float = 1.0,
        stale_for: float = 120.0,
        max_entries: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fresh_for = fresh_for
        self.changed_after = changed_after  # a newer version rebuilds a value this old
        self.stale_for = stale_for
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._building: dict[Hashable, asyncio.Task[Any]] = {}

    def fit(self, entries: int) -> None:
        """Hold at least `entries` values (every monitor page of the running config), so
        crawling them all never turns the cache over."""
        self.max_entries = max(self.max_entries, entries)

    def clear(self) -> None:
        """Forget every value (a write this process made must show at once)."""
        self._entries.clear()

    async def get(self, key: Hashable, build: Callable[[], Awaitable[T]], version: int = 0) -> T:
        """The value for `key`; `version` names the data it should reflect (a newer one makes
        a value older than `changed_after` stale)."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            age = self.clock() - entry.made_at
            outdated = entry.version != version and age >= self.changed_after
            if age <= self.fresh_for and not outdated:
                return cast(T, entry.value)
            if age <= self.stale_for:
                self._start(key, build, version)
                return cast(T, entry.value)
        try:
            return cast(T, await asyncio.shield(self._start(key, build, version)))
        except Exception:
            if entry is None:
                raise
            log.warning("page rebuild failed; serving the last good one", key=str(key))
            return cast(T, entry.value)

    def _start(
        self, key: Hashable, build: Callable[[], Awaitable[T]], version: int
    ) -> asyncio.Task[Any]:
        task = self._building.get(key)
        if task is None:
            task = asyncio.create_task(self._build(key, build, version))
            task.add_done_callback(_report)
            self._building[key] = task
        return task

    async def _build(self, key: Hashable, build: Callable[[], Awaitable[T]], version: int) -> T:
        try:
            value = await build()
        finally:
            self._building.pop(key, None)
        self._entries[key] = _Entry(value, self.clock(), version)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return value


def _report(task: asyncio.Task[Any]) -> None:
    """Retrieve a background build's error (so asyncio does not complain) and log it."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.warning("page rebuild failed", error=type(exc).__name__)
