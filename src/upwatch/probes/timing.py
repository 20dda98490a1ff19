"""Per-probe phase timing: who opens which phase.

dns: our resolver (`resolver.py`); connect: the probe, or the resolver once it has answered; tls:
the SSL context when the handshake starts (`tls.py`); ttfb: aiohttp's trace once the connection is
made (the request goes out right after); transfer: the probe, once response headers arrived.
"""

from __future__ import annotations

import ssl
from contextvars import ContextVar
from time import perf_counter


class PhaseClock:
    """Seconds spent per phase (dns, connect, tls, ttfb, transfer), summed over redirect hops.

    `current` is the phase running now: a timeout names it (`... waiting for response headers`).
    `host` is the host of the request in flight, for causes that name it; `tls` the TLS session of
    its connection (its certificate is read after the answer, when the connection may be gone).
    """

    __slots__ = ("_since", "current", "host", "phases", "tls")

    def __init__(self, host: str = "") -> None:
        self.phases: dict[str, float] = {}
        self.current: str | None = None
        self.host = host
        self.tls: ssl.SSLObject | None = None
        self._since = 0.0

    def switch(self, phase: str | None) -> None:
        now = perf_counter()
        if self.current is not None:
            self.phases[self.current] = self.phases.get(self.current, 0.0) + (now - self._since)
        self.current = phase
        self._since = now


# The resolver, the TLS context and the trace are shared by every probe and cannot see the probe
# they work for; the probe's task carries its clock here so they can time phases into it.
CURRENT_CLOCK: ContextVar[PhaseClock | None] = ContextVar("upwatch_probe_clock", default=None)
