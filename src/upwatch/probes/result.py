"""What one probe yields: an ordinary value, never an exception, whatever the target did."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum


class ProbeState(StrEnum):
    UP = "up"
    DEGRADED = "degraded"  # hard expectations met, a soft one (response time, cert expiry) missed
    DOWN = "down"


PHASES = ("dns", "connect", "tls", "ttfb", "transfer")


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe's outcome.

    `cause` is the full one-line reason for people who are paged (may name hosts and URLs);
    `public_cause` is the same reason without hostnames, addresses or URLs, for public pages.
    `phases` holds seconds per phase (dns, connect, tls, ttfb, transfer) that actually ran.
    """

    state: ProbeState
    checked_at: datetime
    duration: float
    cause: str | None = None
    public_cause: str | None = None
    status_code: int | None = None
    phases: dict[str, float] = field(default_factory=dict)
    cert_expires_at: datetime | None = None

    @property
    def is_down(self) -> bool:
        return self.state is ProbeState.DOWN

    def redacted(self, redact: Callable[[str], str]) -> ProbeResult:
        """This result with its causes as they may be shown: a cause names the host or URL
        probed, which may hold a `${VAR}`'s value. Stored, paged and printed only in this form."""
        if self.cause is None and self.public_cause is None:
            return self
        return replace(
            self,
            cause=None if self.cause is None else redact(self.cause),
            public_cause=None if self.public_cause is None else redact(self.public_cause),
        )
