"""Readiness and liveness, as /healthz and the watchdog see them.

/healthz answers 503 until the config is loaded, the database migrated and the scheduler has
ticked, then 200 while the scheduler keeps ticking; the watchdog exits the process when it stalls.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

STALL_SECONDS = 120.0  # a scheduler that has not ticked this long makes the process exit 1
UNHEALTHY_SECONDS = 30.0  # /healthz answers 503 well before the watchdog gives up


@dataclass(slots=True)
class Health:
    config_loaded: bool = False
    migrated: bool = False
    last_tick: float | None = None  # time.monotonic() of the scheduler's last tick
    stopping: bool = False

    def tick(self) -> None:
        self.last_tick = time.monotonic()

    def since_tick(self, now: float | None = None) -> float | None:
        if self.last_tick is None:
            return None
        return (time.monotonic() if now is None else now) - self.last_tick

    @property
    def ready(self) -> bool:
        return self.config_loaded and self.migrated and self.last_tick is not None

    def healthy(self, now: float | None = None) -> bool:
        waited = self.since_tick(now)
        return (
            self.ready and not self.stopping and waited is not None and (waited < UNHEALTHY_SECONDS)
        )

    def stalled(self, now: float | None = None) -> bool:
        waited = self.since_tick(now)
        return waited is not None and waited > STALL_SECONDS
