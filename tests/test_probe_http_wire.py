"""Answers real servers send that are odd on the wire: judged as browsers and Go's client would.

Each case is the exact bytes a server sends; the verdict is what a person watching that server
expects (an answer browsers render is up; framing no client can trust is down, saying why).
"""

from __future__ import annotations

import gzip

import pytest

from tests.probe_servers import HttpServer, LoopThread, raw
from upwatch.config.models import HttpMonitor
from upwatch.probes.prober import Prober
from upwatch.probes.result import ProbeResult, ProbeState

OK = b"Content-Length: 2\r\n\r\nok"
GZIPPED = gzip.compress(b"all ok")

UP_CASES = {
    "http-1.0-body-until-close": b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nok",
    "http-1.1-body-until-close": b"HTTP/1.1 200 OK\r\n\r\nok until the end",
    "no-reason-phrase": b"HTTP/1.1 200\r\n" + OK,
    "bare-lf-line-ends": b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    "folded-header": b"HTTP/1.1 200 OK\r\nX-Long: a\r\n  b\r\n" + OK,
    "utf-8-header-value": "HTTP/1.1 200 OK\r\nX-Name: Grüße\r\n".encode() + OK,
    "latin-1-header-value": "HTTP/1.1 200 OK\r\nX-Name: Grüße\r\n".encode("latin-1") + OK,
    "103-early-hints-first": b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
    + b"HTTP/1.1 200 OK\r\n"
    + OK,
    "chunk-extension-and-trailer": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"2;x=y\r\nok\r\n0\r\nX-Trailer: 1\r\n\r\n",
    "20-kib-cookie-header": b"HTTP/1.1 200 OK\r\nSet-Cookie: a=" + b"x" * 20_000 + b"\r\n" + OK,
    "300-headers": b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(300)) + OK,
    "unknown-charset": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=bogus\r\n" + OK,
    "204-declaring-a-length": b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
    "gzip-with-trailing-junk": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
    + b"Content-Length: %d\r\n\r\n" % (len(GZIPPED) + 4)
    + GZIPPED
    + b"junk",
}

DOWN_CASES = {
    "not-http-at-all": (b"hello", "invalid HTTP response (bad status line)"),
    "body-shorter-than-declared": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok",
        "server closed the connection before the body was complete",
    ),
    "bad-chunk-size": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n",
        "invalid HTTP response (invalid character in chunk size)",
    ),
    "nul-in-a-header": (b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n" + OK, "invalid HTTP response"),
    "302-without-location": (
        b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n",
        "expected status 2xx, got 302",
    ),
    "302-with-empty-location": (
        b"HTTP/1.1 302 Found\r\nLocation: \r\nContent-Length: 0\r\n\r\n",
        "expected status 2xx, got 302",
    ),
}


@pytest.fixture(scope="module")
def wire(server_thread: LoopThread) -> HttpServer:
    routes = {f"/{name}": raw(answer) for name, answer in UP_CASES.items()}
    routes |= {f"/{name}": raw(answer) for name, (answer, _) in DOWN_CASES.items()}
    return HttpServer(server_thread, routes, None)


async def probe(wire: HttpServer, name: str, **fields: object) -> ProbeResult:
    monitor = HttpMonitor.model_validate(
        {"id": "odd", "name": "Odd", "url": wire.url(f"/{name}"), "timeout": "2s", **fields}
    )
    async with Prober() as prober:
        return await prober.probe(monitor)


@pytest.mark.parametrize("name", list(UP_CASES))
async def test_an_odd_answer_browsers_accept_is_up(wire: HttpServer, name: str) -> None:
    result = await probe(wire, name)

    assert (result.state, result.cause) == (ProbeState.UP, None)


@pytest.mark.parametrize("name", list(DOWN_CASES))
async def test_an_answer_no_client_can_trust_is_down_saying_why(
    wire: HttpServer, name: str
) -> None:
    result = await probe(wire, name)

    assert result.state is ProbeState.DOWN
    assert result.cause is not None
    assert result.cause.startswith(DOWN_CASES[name][1])


async def test_a_gzipped_body_with_trailing_junk_is_judged_on_what_decodes(
    wire: HttpServer,
) -> None:
    result = await probe(wire, "gzip-with-trailing-junk", expect={"body_contains": "all ok"})

    assert result.state is ProbeState.UP
