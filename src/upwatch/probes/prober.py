"""The Prober: the registry that routes a monitor to its probe, and the probes it has built.

A probe type is one module with a class that has `prepare(monitor)` (build what its probes need
before timing starts), `run(monitor, started)` and `aclose()`, plus one line in `PROBE_TYPES`.
Probe modules never import this one. Each probe is built on the first monitor of its type, so
`upwatch probe URL` never pays for dnspython (≈60 ms to import) or a TLS context it does not use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

from upwatch.config.models import MonitorBase
from upwatch.probes.outcome import Started
from upwatch.probes.result import ProbeResult


class Probe(Protocol):
    def prepare(self, monitor: Any) -> None: ...

    async def run(self, monitor: Any, started: Started) -> ProbeResult: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ProberOptions:
    """What every probe may need from its creator: extra trust (a private or a test CA)."""

    extra_ca_pem: str | None = None
    user_agent: str | None = None
    source_address: str | None = None  # the local address probes leave from (a region's)


def _http(options: ProberOptions) -> Probe:
    from upwatch.probes.http import HttpProbe
    from upwatch.probes.http_client import USER_AGENT, HttpClients

    agent = options.user_agent or USER_AGENT
    clients = HttpClients(
        extra_ca_pem=options.extra_ca_pem, user_agent=agent, source=options.source_address
    )
    return HttpProbe(clients)


def _tcp(options: ProberOptions) -> Probe:
    from upwatch.probes.tcp import TcpProbe

    return TcpProbe(source=options.source_address)


def _dns(options: ProberOptions) -> Probe:
    from upwatch.probes.dns import DnsProbe, DnsResolvers

    return DnsProbe(DnsResolvers(source=options.source_address))


# One line per monitor type. Heartbeat monitors are absent on purpose: they are push-based (the
# daemon records their check-ins and deadlines), so there is nothing to probe.
PROBE_TYPES: dict[str, Callable[[ProberOptions], Probe]] = {
    "http": _http,
    "tcp": _tcp,
    "dns": _dns,
}


class Prober:
    """Runs probes; create one per process and share it: its probes hold sessions and contexts.

    `probe()` never raises because of the target; it raises `ValueError` only for a monitor type
    that cannot be probed (heartbeat), which is the caller's mistake.
    """

    def __init__(
        self,
        *,
        extra_ca_pem: str | None = None,
        user_agent: str | None = None,
        source_address: str | None = None,
    ) -> None:
        self._options = ProberOptions(extra_ca_pem, user_agent, source_address)
        self._probes: dict[str, Probe] = {}

    def probe_for(self, monitor: MonitorBase) -> Probe:
        kind: str = getattr(monitor, "type", "")
        probe = self._probes.get(kind)
        if probe is None:
            factory = PROBE_TYPES.get(kind)
            if factory is None:
                raise ValueError(_not_probed(kind))
            probe = self._probes[kind] = factory(self._options)
        return probe

    def prepare(self, monitor: MonitorBase) -> None:
        """Build what `monitor`'s probes need now, so its first probe times only the target."""
        self.probe_for(monitor).prepare(monitor)

    async def probe(self, monitor: MonitorBase, *, now: datetime | None = None) -> ProbeResult:
        """Probe `monitor` once; `now` (UTC-aware) becomes `checked_at`, default the real time."""
        probe = self.probe_for(monitor)
        return await probe.run(monitor, Started(now))

    async def aclose(self) -> None:
        probes, self._probes = list(self._probes.values()), {}
        for probe in probes:
            await probe.aclose()

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
