"""A per-process, in-memory rate limit (for `POST /subscribe`)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_KEYS = 10_000


@dataclass(slots=True)
class RateLimit:
    """At most `limit` events per key within `window` seconds, remembered in this process only
    (with `--workers N` each worker counts on its own; a restart forgets)."""

    limit: int
    window: float  # seconds
    clock: Callable[[], float] = time.monotonic
    seen: dict[str, deque[float]] = field(default_factory=dict)

    def allow(self, key: str) -> float | None:
        """None when allowed (and counted); else the seconds until the next one is allowed."""
        now = self.clock()
        if len(self.seen) > MAX_KEYS:  # forget quiet clients so memory stays bounded
            self.seen = {k: v for k, v in self.seen.items() if v and v[-1] > now - self.window}
        times = self.seen.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            return times[0] + self.window - now
        times.append(now)
        return None
