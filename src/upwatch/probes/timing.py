"""Per-probe phase timing, fed by httpcore's `trace` extension and by our network backend."""

from __future__ import annotations

from contextvars import ContextVar
from time import perf_counter
from typing import Any

# httpcore trace events (httpcore/_async/connection.py, http11.py) and the phase each one opens;
# None closes the running phase. Events not listed (".failed", "response_closed", ...) are ignored
# so that after a timeout `current` still names the phase that was running. The dns and connect
# phases are opened by our network backend (backend.py), which knows when resolution ends.
_EVENT_PHASES: dict[str, str | None] = {
    "connection.connect_tcp.complete": None,
    "connection.start_tls.started": "tls",
    "connection.start_tls.complete": None,
    "http11.send_request_headers.started": "ttfb",
    "http11.receive_response_headers.complete": "transfer",
}
_IGNORED = "ignored"


class PhaseClock:
    """Seconds spent per phase (dns, connect, tls, ttfb, transfer), summed over redirect hops.

    `current` is the phase running now: a timeout names it (`... waiting for response headers`).
    `host` is the host of the request in flight, for causes that name it.
    """

    __slots__ = ("_since", "current", "host", "phases")

    def __init__(self, host: str = "") -> None:
        self.phases: dict[str, float] = {}
        self.current: str | None = None
        self.host = host
        self._since = 0.0

    def switch(self, phase: str | None) -> None:
        now = perf_counter()
        if self.current is not None:
            self.phases[self.current] = self.phases.get(self.current, 0.0) + (now - self._since)
        self.current = phase
        self._since = now

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        phase = _EVENT_PHASES.get(event, _IGNORED)
        if phase is not _IGNORED:
            self.switch(phase)


# The network backend is shared by every probe and cannot see the request it connects for; the
# probe's task carries its clock here so the backend can time DNS resolution into it.
CURRENT_CLOCK: ContextVar[PhaseClock | None] = ContextVar("upwatch_probe_clock", default=None)
