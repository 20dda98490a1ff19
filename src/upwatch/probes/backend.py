"""httpcore network backend that resolves host names itself, so a probe can time DNS on its own.

httpcore has no DNS trace event: name resolution happens inside `connect_tcp`. Resolving first and
connecting to the address separates the `dns` phase from the `connect` phase.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

import httpcore

from upwatch.probes.resolve import is_ip_literal, resolve
from upwatch.probes.streams import AsyncioBackend
from upwatch.probes.timing import CURRENT_CLOCK, PhaseClock


class ResolvingBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._inner = inner if inner is not None else AsyncioBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        clock = CURRENT_CLOCK.get()
        addresses = [host] if is_ip_literal(host) else await _resolve(host, port, clock)
        if clock is not None:
            clock.switch("connect")
        failure: httpcore.ConnectError | None = None
        # Addresses are tried in the resolver's order (RFC 6724); the probe's deadline bounds the
        # whole walk, so a blackholed first address shows up as a timeout, as it would for users.
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError("the host name resolved to no address")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._inner.connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _resolve(host: str, port: int, clock: PhaseClock | None) -> list[str]:
    if clock is not None:
        clock.switch("dns")
    try:
        return await resolve(host, port)
    except socket.gaierror as exc:
        raise httpcore.ConnectError("could not resolve the host name") from exc
