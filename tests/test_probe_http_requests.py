"""What the HTTP probe sends, hop by hop: method, headers, body, cookies, and what a redirect keeps.

Real servers on loopback record every request; 127.0.0.2 stands for another host.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
import uvloop

from tests.probe_servers import HttpServer, LoopThread, redirect, respond
from upwatch import __version__
from upwatch.config.models import HttpMonitor
from upwatch.probes.prober import Prober
from upwatch.probes.result import ProbeResult, ProbeState


@pytest.fixture(scope="module", params=["asyncio", "uvloop"])
def event_loop_policy(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoopPolicy:
    if request.param == "uvloop":
        return uvloop.EventLoopPolicy()
    return asyncio.DefaultEventLoopPolicy()


def http(url: str, **fields: Any) -> HttpMonitor:
    fields.setdefault("timeout", "2s")
    return HttpMonitor.model_validate({"id": "api", "name": "API", "url": url, **fields})


async def probe(url: str, **fields: Any) -> ProbeResult:
    async with Prober() as prober:
        return await prober.probe(http(url, **fields))


@pytest.fixture
def other_host(server_thread: LoopThread) -> HttpServer:
    """A server on 127.0.0.2: another origin, as far as a redirect is concerned."""
    return HttpServer(server_thread, {"/landing": respond(200, b"landed")}, None, host="127.0.0.2")


@pytest.fixture
def server(server_thread: LoopThread) -> HttpServer:
    return HttpServer(server_thread, {}, None)


async def test_the_request_carries_method_headers_auth_json_and_user_agent(
    server: HttpServer,
) -> None:
    server.routes["/hook"] = respond(201, b'{"ok": true}')
    result = await probe(
        server.url("/hook"),
        method="POST",
        headers={"X-Token": "t0k"},
        basic_auth={"username": "ops", "password": "s3cret:#"},
        json={"ping": [1, 2]},
    )

    assert result.state is ProbeState.UP
    sent = server.last("/hook")
    assert sent.method == "POST"
    assert sent.headers["x-token"] == "t0k"
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(b"ops:s3cret:#").decode()
    assert sent.headers["user-agent"] == f"upwatch/{__version__}"
    assert sent.headers["content-type"] == "application/json"
    assert json.loads(sent.body) == {"ping": [1, 2]}


async def test_a_raw_body_is_sent_as_given(server: HttpServer) -> None:
    server.routes["/raw"] = respond(204, b"")

    await probe(server.url("/raw"), method="PUT", body="a=1&b=2")

    assert (server.last("/raw").method, server.last("/raw").body) == ("PUT", b"a=1&b=2")


async def test_each_probe_opens_its_own_connection_and_says_so(server: HttpServer) -> None:
    server.routes["/"] = respond(200, b"ok")

    await probe(server.url("/"))

    assert server.last("/").headers["connection"] == "close"


# ---- redirects and who gets our headers -------------------------------------------------------


async def test_headers_and_credentials_stay_with_their_origin(
    server: HttpServer, other_host: HttpServer
) -> None:
    server.routes["/start"] = redirect(other_host.url("/landing"))
    result = await probe(
        server.url("/start"),
        headers={"X-Api-Key": "k3y-for-origin-only", "Accept-Language": "de", "Cookie": "a=1"},
        basic_auth={"username": "ops", "password": "pw"},
    )

    assert result.state is ProbeState.UP
    first, landed = server.last("/start").headers, other_host.last("/landing").headers
    assert first["x-api-key"] == "k3y-for-origin-only"
    assert "authorization" in first
    assert "x-api-key" not in landed
    assert "authorization" not in landed
    assert "cookie" not in landed
    assert landed["accept-language"] == "de"  # harmless: kept
    assert landed["user-agent"] == f"upwatch/{__version__}"


async def test_a_redirect_within_the_origin_keeps_the_monitors_headers(server: HttpServer) -> None:
    server.routes["/start"] = redirect("/next")
    server.routes["/next"] = respond(200, b"ok")

    await probe(server.url("/start"), headers={"X-Api-Key": "k3y"})

    assert server.last("/next").headers["x-api-key"] == "k3y"


async def test_another_port_is_another_origin(
    server_thread: LoopThread, server: HttpServer
) -> None:
    elsewhere = HttpServer(server_thread, {"/landing": respond(200, b"ok")}, None)
    server.routes["/start"] = redirect(elsewhere.url("/landing"))

    await probe(server.url("/start"), headers={"X-Api-Key": "k3y"})

    assert "x-api-key" not in elsewhere.last("/landing").headers


async def test_headers_dropped_once_stay_dropped_when_the_chain_comes_back(
    server: HttpServer, server_thread: LoopThread
) -> None:
    away = HttpServer(server_thread, {"/away": redirect(server.url("/back"))}, None, "127.0.0.2")
    server.routes["/start"] = redirect(away.url("/away"))
    server.routes["/back"] = respond(200, b"ok")

    await probe(server.url("/start"), headers={"X-Api-Key": "k3y"})

    assert "x-api-key" not in server.last("/back").headers


@pytest.mark.parametrize(
    ("status", "method", "sent"),
    [
        (301, "POST", "GET"),
        (302, "POST", "GET"),
        (303, "PUT", "GET"),
        (303, "HEAD", "HEAD"),
        (307, "POST", "POST"),
        (308, "PUT", "PUT"),
        (302, "PUT", "PUT"),
    ],
)
async def test_a_redirect_changes_the_method_as_browsers_do(
    server: HttpServer, status: int, method: str, sent: str
) -> None:
    server.routes["/start"] = redirect("/next", status)
    server.routes["/next"] = respond(200, b"")

    await probe(server.url("/start"), method=method, body="payload")

    final = server.last("/next")
    assert final.method == sent
    assert final.body == (b"" if method != sent else b"payload")


# ---- cookies ------------------------------------------------------------------------------------


async def test_a_session_cookie_set_before_a_redirect_is_sent_after_it(server: HttpServer) -> None:
    server.routes["/login"] = respond(
        302, b"", {"Location": "/app", "Set-Cookie": "sid=abc; Path=/"}
    )
    server.routes["/app"] = respond(200, b"welcome")

    result = await probe(server.url("/login"))

    assert result.state is ProbeState.UP
    assert server.last("/app").headers["cookie"] == "sid=abc"


async def test_cookies_from_one_probe_are_not_sent_by_the_next(server: HttpServer) -> None:
    server.routes["/"] = respond(200, b"ok", {"Set-Cookie": "session=abc; Path=/"})

    async with Prober() as prober:
        await prober.probe(http(server.url("/")))
        await prober.probe(http(server.url("/")))

    assert "cookie" not in server.last("/").headers


async def test_a_cookie_is_not_sent_to_another_host(
    server: HttpServer, other_host: HttpServer
) -> None:
    server.routes["/start"] = respond(
        302, b"", {"Location": other_host.url("/landing"), "Set-Cookie": "sid=abc; Path=/"}
    )

    await probe(server.url("/start"))

    assert "cookie" not in other_host.last("/landing").headers
