"""Building a ProbeResult: the probe's clock, its cause in two wordings, and one-line text."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from time import perf_counter
from typing import Any

from upwatch.config.durations import format_duration
from upwatch.probes.result import ProbeResult, ProbeState

QUOTE_LIMIT = 60
# Everything str.splitlines() would break on, and the other control characters.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True, slots=True)
class Cause:
    """Why a probe was not UP: `text` for people who are paged, `public` for status pages."""

    text: str
    public: str

    @classmethod
    def plain(cls, text: str) -> Cause:
        """A cause that names no host, address or URL, so both wordings are the same."""
        return cls(text, text)


class Started:
    """The probe's start: wall-clock time for `checked_at`, a monotonic mark for `duration`."""

    __slots__ = ("_perf", "_stopped", "at")

    def __init__(self, now: datetime | None = None) -> None:
        self.at = now if now is not None else datetime.now(UTC)
        self._perf = perf_counter()
        self._stopped: float | None = None

    def stop(self) -> None:
        """The target has answered: judging what it said is not response time."""
        self._stopped = perf_counter()

    def elapsed(self) -> float:
        end = self._stopped if self._stopped is not None else perf_counter()
        return end - self._perf

    def finish(
        self,
        state: ProbeState,
        cause: Cause | None = None,
        *,
        status_code: int | None = None,
        phases: dict[str, float] | None = None,
        cert_expires_at: datetime | None = None,
    ) -> ProbeResult:
        return ProbeResult(
            state=state,
            checked_at=self.at,
            duration=self.elapsed(),
            cause=None if cause is None else cause.text,
            public_cause=None if cause is None else cause.public,
            status_code=status_code,
            phases={} if phases is None else phases,
            cert_expires_at=cert_expires_at,
        )

    def judged(
        self,
        hard: Cause | None,
        soft: list[Cause],
        *,
        status_code: int | None = None,
        phases: dict[str, float] | None = None,
        cert_expires_at: datetime | None = None,
    ) -> ProbeResult:
        """DOWN on a hard failure, DEGRADED when only soft expectations were missed, else UP."""
        state, cause = ProbeState.UP, None
        if hard is not None:
            state, cause = ProbeState.DOWN, hard
        elif soft:
            state = ProbeState.DEGRADED
            cause = Cause("; ".join(c.text for c in soft), "; ".join(c.public for c in soft))
        return self.finish(
            state, cause, status_code=status_code, phases=phases, cert_expires_at=cert_expires_at
        )


def one_line(text: str, limit: int = 120) -> str:
    """Server- or OS-supplied text made safe for a one-line cause: no control characters, short."""
    flat = _CONTROL.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def quoted(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """A value as JSON would spell it (`"degraded"`, `3`, `null`), truncated for a cause."""
    # json.dumps escapes ASCII control characters but not U+2028 and friends.
    text = _CONTROL.sub(" ", json.dumps(value, ensure_ascii=False, default=str))
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ('…"' if text.startswith('"') else "…")


def seconds_text(seconds: float) -> str:
    """`6.2s` or `850ms`: precise enough for a person comparing with a limit."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    return f"{seconds:.1f}s"


def time_left(seconds: float) -> str:
    """`6 days`, `5 hours`, `1 minute`: the largest whole unit, rounded down."""
    for size, unit in ((86_400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "less than a minute"


def slow_cause(limit: timedelta | None, elapsed: float) -> Cause | None:
    """The soft `response_time_under` expectation every probe type shares."""
    if limit is None or elapsed < limit.total_seconds():
        return None
    took, limit_text = seconds_text(elapsed), format_duration(limit)
    return Cause.plain(f"response took {took}, expected under {limit_text}")
