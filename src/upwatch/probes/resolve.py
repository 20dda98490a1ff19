"""Host name resolution through the system resolver, timed by the caller and never blocking exit.

`loop.getaddrinfo` runs in the loop's default executor: a handful of threads shared with everything
else, so a few hanging lookups queue every other probe's DNS behind them, and `asyncio.run` waits
for a hanging lookup at shutdown (`upwatch probe` would outlive its deadline). Each lookup here
gets its own daemon thread instead: a probe that times out leaves the thread behind to finish on
its own, and the process can exit while it does.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import threading
from functools import lru_cache


@lru_cache(maxsize=4096)
def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def resolve(host: str, port: int) -> list[str]:
    """The addresses of `host` in the resolver's preferred order; raises `socket.gaierror`."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[list[str]] = loop.create_future()
    worker = threading.Thread(
        target=_lookup, args=(loop, future, host, port), name="upwatch-resolve", daemon=True
    )
    worker.start()
    return await future


def _lookup(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[list[str]], host: str, port: int
) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        _deliver(loop, future, None, exc)
    else:
        _deliver(loop, future, list(dict.fromkeys(str(info[4][0]) for info in infos)), None)


def _deliver(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[list[str]],
    addresses: list[str] | None,
    error: OSError | None,
) -> None:
    # RuntimeError: the loop closed while we resolved, so nobody is waiting any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(_settle, future, addresses, error)


def _settle(
    future: asyncio.Future[list[str]], addresses: list[str] | None, error: OSError | None
) -> None:
    if future.done():  # cancelled by the probe's deadline
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(addresses or [])
