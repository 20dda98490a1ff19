"""The Prober: long-lived probing resources and the registry that routes a monitor to its probe."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from upwatch.config.models import DnsMonitor, MonitorBase
from upwatch.probes.http import probe_http
from upwatch.probes.outcome import Started
from upwatch.probes.result import ProbeResult
from upwatch.probes.tcp import probe_tcp
from upwatch.probes.transport import USER_AGENT, HttpClients

if TYPE_CHECKING:
    from upwatch.probes.dns import DnsResolvers

ProbeFunction = Callable[["Prober", Any, Started], Awaitable[ProbeResult]]


async def _probe_dns(prober: Prober, monitor: DnsMonitor, started: Started) -> ProbeResult:
    # dnspython takes ~60 ms to import: `upwatch probe URL` should not wait for it.
    from upwatch.probes.dns import probe_dns

    return await probe_dns(prober, monitor, started)


# One line per monitor type. Heartbeat monitors are absent on purpose: they are push-based (the
# daemon records their check-ins and deadlines), so there is nothing to probe.
PROBES: dict[str, ProbeFunction] = {
    "http": probe_http,
    "tcp": probe_tcp,
    "dns": _probe_dns,
}


class Prober:
    """Runs probes; create one per process and share it, it holds clients and TLS contexts.

    `extra_ca_pem` adds PEM-encoded CA certificates to the trusted set (a private CA, or a test
    CA). `probe()` never raises because of the target; it raises `ValueError` only for a monitor
    type that cannot be probed (heartbeat), which is the caller's mistake.
    """

    def __init__(self, *, extra_ca_pem: str | None = None, user_agent: str = USER_AGENT) -> None:
        # httpx logs every request's full URL at INFO; URLs may carry tokens (DESIGN section 3).
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self.http = HttpClients(extra_ca_pem=extra_ca_pem, user_agent=user_agent)
        self._dns: DnsResolvers | None = None

    @property
    def dns(self) -> DnsResolvers:
        if self._dns is None:
            from upwatch.probes.dns import DnsResolvers

            self._dns = DnsResolvers()
        return self._dns

    async def probe(self, monitor: MonitorBase, *, now: datetime | None = None) -> ProbeResult:
        """Probe `monitor` once; `now` (UTC-aware) becomes `checked_at`, default the real time."""
        kind: str = getattr(monitor, "type", "")
        probe = PROBES.get(kind)
        if probe is None:
            raise ValueError(_not_probed(kind))
        return await probe(self, monitor, Started(now))

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Prober:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def _not_probed(kind: str) -> str:
    if kind == "heartbeat":
        return "heartbeat monitors are push-based: the daemon records their check-ins, no probe"
    return f"no probe for monitor type {kind!r}"
