"""A delivery attempt's outcome: errors are data, because a receiver that is down is ordinary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt did.

    `permanent`: retrying cannot help (a revoked webhook, a rejected address): the message fails
    now. `retry_after`: the receiver asked for this much quiet (HTTP 429 `Retry-After`).
    `error` never holds a secret or a channel URL (the dispatcher redacts it again anyway).
    """

    ok: bool
    status_code: int | None = None
    error: str | None = None
    permanent: bool = False
    retry_after: timedelta | None = None
    detail: str | None = None  # what succeeded, for `notify-test` ("HTTP 200", "250 queued")
    duration_ms: float | None = None

    @classmethod
    def delivered(cls, status_code: int | None, detail: str) -> Outcome:
        return cls(True, status_code, detail=detail)

    @classmethod
    def retry(
        cls, error: str, status_code: int | None = None, retry_after: timedelta | None = None
    ) -> Outcome:
        return cls(False, status_code, error, retry_after=retry_after)

    @classmethod
    def give_up(cls, error: str, status_code: int | None = None) -> Outcome:
        return cls(False, status_code, error, permanent=True)

    def timed(self, duration_ms: float) -> Outcome:
        return replace(self, duration_ms=round(duration_ms, 1))

    def redacted(self, redact: Callable[[str], str]) -> Outcome:
        if self.error is None:
            return self
        return replace(self, error=redact(self.error))
