"""The TCP probe: UP when a connection to host:port opens within the deadline."""

from __future__ import annotations

import asyncio

from upwatch.config.models import TcpMonitor
from upwatch.probes.errors import describe, timed_out
from upwatch.probes.outcome import Cause, Started, slow_cause
from upwatch.probes.resolve import is_ip_literal, resolve
from upwatch.probes.result import ProbeResult
from upwatch.probes.timing import PhaseClock


class TcpProbe:
    """Holds only where probes leave from: each probe opens and closes its own connection."""

    def __init__(self, *, source: str | None = None) -> None:
        self.source = source

    def prepare(self, monitor: TcpMonitor) -> None:
        return None

    async def run(self, monitor: TcpMonitor, started: Started) -> ProbeResult:
        return await probe_tcp(monitor, started, source=self.source)

    async def aclose(self) -> None:
        return None


async def probe_tcp(
    monitor: TcpMonitor, started: Started, *, source: str | None = None
) -> ProbeResult:
    clock = PhaseClock(monitor.host)
    failure: Cause | None = None
    deadline = asyncio.timeout(monitor.timeout.total_seconds())
    try:
        async with deadline:
            await _connect(monitor.host, monitor.port, clock, source)
    except OSError as exc:  # TimeoutError included: our deadline, or the kernel's
        if isinstance(exc, TimeoutError) and deadline.expired():
            failure = timed_out(monitor.timeout, clock.current, monitor.host)
        else:
            failure = describe(exc, monitor.host)
    finally:
        clock.switch(None)
    slow = None if failure else slow_cause(monitor.expect.response_time_under, started.elapsed())
    return started.judged(failure, [] if slow is None else [slow], phases=clock.phases)


async def _connect(host: str, port: int, clock: PhaseClock, source: str | None) -> None:
    if is_ip_literal(host):
        addresses = [host]
    else:
        clock.switch("dns")
        addresses = await resolve(host, port)
    clock.switch("connect")
    failure: OSError | None = None
    for address in addresses:
        try:
            transport, _ = await asyncio.get_running_loop().create_connection(
                asyncio.Protocol, address, port, local_addr=None if source is None else (source, 0)
            )
        except OSError as exc:
            failure = exc
        else:
            transport.close()
            return
    raise failure or OSError(f"{host} resolved to no address")
