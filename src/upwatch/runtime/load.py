"""How far behind its schedule probing runs, and whether this machine keeps up (the aim:
degrade evenly and visibly, never collapse).

Every probe reports its lag (start minus its slot on the monitor's grid) and how many slots it
skipped: a monitor whose previous probe has not started by its next slot skips that slot
(one probe in flight per monitor, late slots coalesced), so when the machine cannot keep up every
monitor's interval stretches alike, the probes queueing first in, first out. Over each window
the tracker decides whether probing is overloaded: it warns once when that starts and once when
it ends, and /metrics carries the gauges and counters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import structlog

log = structlog.get_logger("upwatch.load")
WINDOW_SECONDS = 30.0
LATE_SECONDS = 1.0  # a window whose 99th percentile lag is above this is overloaded


@dataclass(slots=True)
class ScheduleLoad:
    probes: int = 0  # since start
    skipped: int = 0  # slots skipped since start
    late: int = 0  # probes started more than LATE_SECONDS after their slot
    overloaded: bool = False
    p99_lag: float = 0.0  # of the last complete window, seconds
    _window: list[float] = field(default_factory=list)
    _window_skipped: int = 0
    _window_started: float | None = None

    def observe(self, lag: float, skipped: int, now: float) -> None:
        """One probe started `lag` seconds after its slot, having skipped `skipped` slots."""
        if self._window_started is None:
            self._window_started = now
        elif now - self._window_started >= WINDOW_SECONDS:
            self._close_window(now)
        self.probes += 1
        self.skipped += skipped
        self._window_skipped += skipped
        if lag > LATE_SECONDS:
            self.late += 1
        self._window.append(lag)

    def _close_window(self, now: float) -> None:
        lags = sorted(self._window)
        self.p99_lag = lags[min(len(lags) - 1, math.ceil(0.99 * len(lags)) - 1)]
        overloaded = self.p99_lag > LATE_SECONDS or self._window_skipped > 0
        if overloaded and not self.overloaded:
            log.warning(
                "probing falls behind schedule: every monitor's interval is stretched; "
                "lengthen intervals, or add CPUs (one worker each) or an instance",
                p99_lag_ms=round(self.p99_lag * 1000),
                skipped=self._window_skipped,
                probes=len(lags),
            )
        elif self.overloaded and not overloaded:
            log.info("probing is back on schedule", p99_lag_ms=round(self.p99_lag * 1000))
        self.overloaded = overloaded
        self._window, self._window_skipped, self._window_started = [], 0, now
