"""Reading a response body in bounded memory: never more than `max_body` bytes, even when gzipped.

The body is streamed: chunks are counted as they arrive and kept only when an expectation needs
them. Decompression is ours rather than the client's, because clients inflate each network chunk
whole and a 64 KiB gzip chunk can inflate to 64 MiB; here inflation stops one byte past the limit.
"""

from __future__ import annotations

import zlib

import aiohttp

from upwatch.probes.outcome import Cause

KIB = 1024
MIB = 1024 * KIB


def size_text(size: int) -> str:
    """`1 MiB`, `64 KiB` or `1500 bytes`, as a person would write the limit."""
    for unit, name in ((MIB, "MiB"), (KIB, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} bytes"


def too_large(limit: int) -> Cause:
    return Cause.plain(f"response body larger than max_body ({size_text(limit)})")


class _Inflater:
    """Incremental gzip/deflate decoding that never produces more than it is asked for."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        # deflate is meant to be zlib-wrapped; some servers send it raw (browsers accept that).
        wbits = zlib.MAX_WBITS | 16 if encoding == "gzip" else zlib.MAX_WBITS
        self._zlib = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes, room: int) -> bytes:
        """Up to `room` bytes of output; input left over means the output went past `room`."""
        try:
            out = self._zlib.decompress(data, room)
        except zlib.error:
            if self._started or self.encoding != "deflate":
                raise
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._zlib.decompress(data, room)
        self._started = True
        return out


def _inflater(response: aiohttp.ClientResponse) -> _Inflater | None:
    encoding = response.headers.get("content-encoding", "").strip().lower()
    # Anything else was not asked for (we send `Accept-Encoding: gzip, deflate`); it is kept as
    # sent and judged as such.
    return _Inflater(encoding) if encoding in ("gzip", "deflate") else None


def _declared_too_large(response: aiohttp.ClientResponse, limit: int) -> bool:
    # HEAD, 204 and 304 answers may declare the length of a body they do not carry.
    if response.method == "HEAD" or response.status in (204, 304):
        return False
    declared = response.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > limit


async def read_body(response: aiohttp.ClientResponse, limit: int, *, keep: bool) -> bytes | Cause:
    """The decoded body (empty unless `keep`), or the cause that stopped reading it."""
    if _declared_too_large(response, limit):
        return too_large(limit)
    inflater = _inflater(response) if keep else None
    parts: list[bytes] = []
    received = kept = 0
    try:
        async for chunk in response.content.iter_any():
            received += len(chunk)
            if received > limit:
                return too_large(limit)
            if keep:
                data = chunk if inflater is None else inflater.feed(chunk, limit - kept + 1)
                kept += len(data)
                if kept > limit:
                    return too_large(limit)
                parts.append(data)
    except zlib.error:
        encoding = inflater.encoding if inflater else "compressed"
        return Cause.plain(f"could not decode the {encoding} response body")
    return b"".join(parts)
