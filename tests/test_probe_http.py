"""The HTTP probe against real servers on 127.0.0.1 (what we send: test_probe_http_requests.py)."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvloop
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.probe_servers import HttpServer, TlsServers, redirect
from upwatch.config.models import HeartbeatMonitor, HttpMonitor
from upwatch.probes.jsonpaths import json_paths_failure
from upwatch.probes.outcome import QUOTE_LIMIT
from upwatch.probes.prober import Prober
from upwatch.probes.result import ProbeResult, ProbeState


@pytest.fixture(scope="module", params=["asyncio", "uvloop"])
def event_loop_policy(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoopPolicy:
    """Every test on the standard loop and on uvloop, the daemon's."""
    if request.param == "uvloop":
        return uvloop.EventLoopPolicy()
    return asyncio.DefaultEventLoopPolicy()


NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def http(url: str, **fields: Any) -> HttpMonitor:
    fields.setdefault("timeout", "1s")
    return HttpMonitor.model_validate({"id": "api", "name": "API", "url": url, **fields})


async def probe(prober: Prober, url: str, **fields: Any) -> ProbeResult:
    return await prober.probe(http(url, **fields), now=NOW)


def assert_down(result: ProbeResult, cause: str, public: str | None = None) -> None:
    assert (result.state, result.cause) == (ProbeState.DOWN, cause)
    assert result.public_cause == (cause if public is None else public)


# ---- answers ---------------------------------------------------------------------------------


async def test_a_2xx_answer_is_up_with_status_and_each_phase_timed(
    prober: Prober, http_server: HttpServer
) -> None:
    result = await probe(prober, http_server.url("/ok"))

    assert (result.state, result.status_code, result.cause) == (ProbeState.UP, 200, None)
    assert result.checked_at == NOW
    assert list(result.phases) == ["connect", "ttfb", "transfer"]  # an IP literal: no DNS
    assert all(seconds >= 0 for seconds in result.phases.values())
    assert 0 < sum(result.phases.values()) <= result.duration < 1


async def test_a_host_name_is_resolved_in_its_own_phase(
    prober: Prober, http_server: HttpServer
) -> None:
    # localhost may resolve to ::1 first, where nothing listens: the next address is tried.
    result = await probe(prober, f"http://localhost:{http_server.port}/ok")

    assert result.state is ProbeState.UP
    assert list(result.phases)[:2] == ["dns", "connect"]


@pytest.mark.parametrize(
    ("status", "cause"),
    [
        (None, "expected status 2xx, got 503"),
        ([200], "expected status 200, got 503"),
        ([200, 204, "3xx"], "expected status 200, 204 or 3xx, got 503"),
    ],
)
async def test_an_unexpected_status_is_down_naming_what_was_allowed(
    prober: Prober, http_server: HttpServer, status: list[int | str] | None, cause: str
) -> None:
    expect = {} if status is None else {"status": status}
    result = await probe(prober, http_server.url("/status/503"), expect=expect)

    assert_down(result, cause)
    assert result.status_code == 503


async def test_an_allowed_non_2xx_status_is_up(prober: Prober, http_server: HttpServer) -> None:
    result = await probe(prober, http_server.url("/status/503"), expect={"status": ["5xx"]})

    assert result.state is ProbeState.UP


@pytest.mark.parametrize(
    ("expect", "cause"),
    [
        ({"body_contains": "all good"}, None),
        ({"body_contains": "nope"}, 'body does not contain "nope"'),
        ({"body_not_contains": "error"}, None),
        ({"body_not_contains": "good"}, 'body contains "good"'),
        ({"body_regex": r"\bgood$"}, None),
        ({"body_regex": "^bad"}, 'body does not match "^bad"'),
    ],
)
async def test_body_expectations_are_hard(
    prober: Prober, http_server: HttpServer, expect: dict[str, str], cause: str | None
) -> None:
    result = await probe(prober, http_server.url("/ok"), expect=expect)

    assert result.cause == cause
    assert result.state is (ProbeState.UP if cause is None else ProbeState.DOWN)


@pytest.mark.parametrize(
    ("paths", "cause"),
    [
        ({"status": "healthy", "checks.database": "ok"}, None),
        ({"$.status": "healthy"}, None),
        ({"items.0.id": 7, "items[0].id": 7.0}, None),
        ({"up": True}, None),
        ({"status": "degraded"}, '$.status was "healthy", expected "degraded"'),
        ({"up": 1}, "$.up was true, expected 1"),
        ({"items.0.id": "7"}, '$.items.0.id was 7, expected "7"'),
        ({"checks.cache": "ok"}, "$.checks.cache missing"),
        ({"items.3.id": 7}, "$.items.3.id missing"),
        ({"status.code": 1}, "$.status.code missing"),
    ],
)
async def test_json_paths_compare_with_yaml_typed_values(
    prober: Prober, http_server: HttpServer, paths: dict[str, Any], cause: str | None
) -> None:
    result = await probe(prober, http_server.url("/json"), expect={"json": paths})

    assert result.cause == cause
    assert result.state is (ProbeState.UP if cause is None else ProbeState.DOWN)


@pytest.mark.parametrize("path", ["/json/broken", "/json/deep", "/status/204"])
async def test_a_body_that_is_not_json_is_down(
    prober: Prober, http_server: HttpServer, path: str
) -> None:
    expect = {"status": ["2xx"], "json": {"status": "healthy"}}
    result = await probe(prober, http_server.url(path), expect=expect)

    assert_down(result, "response is not JSON")


async def test_a_value_from_the_server_is_quoted_on_one_short_line(
    prober: Prober, http_server: HttpServer
) -> None:
    result = await probe(
        prober, http_server.url("/json/degraded"), expect={"json": {"status": "healthy"}}
    )

    assert result.cause is not None
    assert result.cause.startswith('$.status was "degraded\\nline two xxx')
    assert result.cause.endswith('…", expected "healthy"')
    assert "\n" not in result.cause
    assert len(result.cause) < 100


async def test_a_gzipped_body_is_judged_decoded(prober: Prober, http_server: HttpServer) -> None:
    result = await probe(prober, http_server.url("/gzip"), expect={"json": {"status": "healthy"}})

    assert result.state is ProbeState.UP


async def test_a_gzip_bomb_stops_at_max_body(prober: Prober, http_server: HttpServer) -> None:
    result = await probe(prober, http_server.url("/gzip/bomb"), expect={"body_contains": "ok"})

    assert_down(result, "response body larger than max_body (1 MiB)")


async def test_a_slow_answer_is_degraded_not_down(prober: Prober, http_server: HttpServer) -> None:
    result = await probe(prober, http_server.url("/slow"), expect={"response_time_under": "100ms"})

    assert result.state is ProbeState.DEGRADED
    assert re.fullmatch(r"response took \d+ms, expected under 100ms", result.cause or "")
    assert result.status_code == 200


async def test_a_hard_failure_outranks_a_soft_one(prober: Prober, http_server: HttpServer) -> None:
    expect = {"response_time_under": "1ms", "body_contains": "missing"}
    result = await probe(prober, http_server.url("/slow"), expect=expect)

    assert_down(result, 'body does not contain "missing"')


# ---- servers that misbehave ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "cause", "status"),
    [
        ("/never", "timed out after 1s waiting for response headers", None),
        ("/headers-then-silence", "timed out after 1s reading the response body", 200),
    ],
)
async def test_a_silent_server_is_down_at_the_deadline(
    prober: Prober, http_server: HttpServer, path: str, cause: str, status: int | None
) -> None:
    started = time.monotonic()
    result = await probe(prober, http_server.url(path), expect={"body_contains": "ok"})
    took = time.monotonic() - started

    assert_down(result, cause)
    assert result.status_code == status
    assert 1 <= took < 1.5
    assert 1 <= result.duration < 1.5


@pytest.mark.parametrize(
    ("path", "cause"),
    [
        ("/close", "server closed the connection without answering"),
        ("/reset", "connection reset by peer"),
        ("/garbage", "invalid HTTP response (bad status line)"),
    ],
)
async def test_a_dropped_connection_is_down_saying_how(
    prober: Prober, http_server: HttpServer, path: str, cause: str
) -> None:
    result = await probe(prober, http_server.url(path))

    assert (result.state, result.cause) == (ProbeState.DOWN, cause)
    assert result.public_cause == cause.partition(" (")[0]


async def test_https_to_a_plain_http_port_says_so(prober: Prober, plain_http_port: int) -> None:
    result = await probe(prober, f"https://127.0.0.1:{plain_http_port}/")

    assert_down(result, "TLS handshake failed: the server did not answer with TLS")


@pytest.mark.parametrize("headers", [{"X-Token": "sec\nret"}, {"X-Token": "sécret"}])
async def test_an_unsendable_header_is_down_without_echoing_its_value(
    prober: Prober, http_server: HttpServer, headers: dict[str, str]
) -> None:
    result = await probe(prober, http_server.url("/ok"), headers=headers)

    assert_down(
        result,
        "could not send the request: a header name or value is invalid "
        "(check the monitor's headers)",
    )


async def test_a_closed_port_is_connection_refused(prober: Prober, closed_port: int) -> None:
    result = await probe(prober, f"http://127.0.0.1:{closed_port}/")

    assert_down(result, "connection refused")
    assert list(result.phases) == ["connect"]


async def test_an_unresolvable_host_fails_fast_without_naming_it_publicly(prober: Prober) -> None:
    result = await probe(prober, "http://nonexistent.invalid/health", timeout="5s")

    assert_down(result, "could not resolve nonexistent.invalid", "could not resolve the host name")
    assert list(result.phases) == ["dns"]
    assert result.duration < 1


async def test_a_hanging_resolver_is_cut_off_at_the_deadline(
    prober: Prober, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def hanging_getaddrinfo(*args: Any, **kwargs: Any) -> Any:
        release.wait(10)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hanging_getaddrinfo)
    try:
        result = await probe(prober, "http://hangs.example/")
    finally:
        release.set()

    assert_down(
        result,
        "timed out after 1s resolving hangs.example",
        "timed out after 1s resolving the host name",
    )
    assert 1 <= result.duration < 1.5


# ---- body size and memory --------------------------------------------------------------------


def _status_kib(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    assert match is not None
    return int(match.group(1))


async def peak_rss_growth_mib(work: Callable[[], Awaitable[ProbeResult]]) -> tuple[float, Any]:
    """How far the process's peak RSS rose above its current RSS while `work` ran."""
    try:  # resets VmHWM to the current RSS (Linux >= 4.0), so the peak is this work's
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pytest.skip("cannot reset the peak RSS counter here")
    before = _status_kib("VmRSS")
    result = await work()
    return (_status_kib("VmHWM") - before) / 1024, result


@pytest.mark.parametrize("expect", [{}, {"body_contains": "never there"}])
async def test_an_endless_body_is_down_at_max_body_in_little_memory(
    prober: Prober, http_server: HttpServer, expect: dict[str, str]
) -> None:
    growth, result = await peak_rss_growth_mib(
        lambda: probe(prober, http_server.url("/stream/forever"), expect=expect)
    )

    assert_down(result, "response body larger than max_body (1 MiB)")
    assert growth < 20


@pytest.mark.slow
async def test_a_1_gib_body_is_streamed_not_buffered(
    prober: Prober, http_server: HttpServer
) -> None:
    growth, result = await peak_rss_growth_mib(
        lambda: probe(prober, http_server.url("/stream/1g"), timeout="60s", max_body=2 << 30)
    )

    assert (result.state, result.status_code) == (ProbeState.UP, 200)
    assert result.phases["transfer"] > result.phases["ttfb"]
    assert growth < 50


# ---- redirects -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fields", "state", "cause"),
    [
        ("/chain/1", {"max_redirects": 7}, ProbeState.UP, None),
        ("/chain/1", {}, ProbeState.DOWN, "too many redirects (more than 5)"),
        ("/chain/7", {"max_redirects": 0}, ProbeState.DOWN, "too many redirects (more than 0)"),
        ("/loop", {}, ProbeState.DOWN, "redirect loop"),
        ("/loop/a", {}, ProbeState.DOWN, "redirect loop"),
        ("/see-other", {"method": "POST", "body": "x"}, ProbeState.UP, None),
        ("/chain/1", {"follow_redirects": False}, ProbeState.DOWN, "expected status 2xx, got 302"),
        (
            "/chain/1",
            {"follow_redirects": False, "expect": {"status": ["3xx"]}},
            ProbeState.UP,
            None,
        ),
        ("/ftp", {}, ProbeState.DOWN, "redirect to a URL that is not http:// or https://"),
    ],
)
async def test_redirects_are_followed_to_the_final_answer(
    prober: Prober,
    http_server: HttpServer,
    path: str,
    fields: dict[str, Any],
    state: ProbeState,
    cause: str | None,
) -> None:
    result = await probe(prober, http_server.url(path), **fields)

    assert (result.state, result.cause) == (state, cause)


# ---- TLS -------------------------------------------------------------------------------------


async def test_a_trusted_certificate_is_up_and_its_expiry_reported(
    prober: Prober, tls_server: TlsServers
) -> None:
    result = await probe(prober, tls_server("valid").url("/ok"))

    assert result.state is ProbeState.UP
    assert result.cert_expires_at == tls_server.expires_at
    assert list(result.phases) == ["connect", "tls", "ttfb", "transfer"]


async def test_the_certificate_is_checked_against_the_host_name_not_its_address(
    prober: Prober, tls_server: TlsServers
) -> None:
    # The probe connects to the resolved address; the certificate must still match the name.
    result = await probe(prober, f"https://localhost:{tls_server('valid').port}/ok")

    assert result.state is ProbeState.UP
    assert list(result.phases) == ["dns", "connect", "tls", "ttfb", "transfer"]


@pytest.mark.parametrize(
    ("kind", "cause"),
    [
        ("expired", "TLS certificate has expired"),
        ("wrong-host", "TLS certificate not valid for this host"),
        ("self-signed", "TLS certificate is self-signed"),
        ("untrusted", "TLS certificate is not trusted (unknown issuer or incomplete chain)"),
    ],
)
async def test_a_bad_certificate_is_down_saying_what_is_wrong(
    prober: Prober, tls_server: TlsServers, kind: str, cause: str
) -> None:
    result = await probe(prober, tls_server(kind).url("/ok"))

    assert_down(result, cause)
    assert "tls" in result.phases


async def test_only_the_given_extra_ca_is_trusted(tls_server: TlsServers) -> None:
    async with Prober() as plain:
        result = await probe(plain, tls_server("valid").url("/ok"))

    assert result.cause == "TLS certificate is not trusted (unknown issuer or incomplete chain)"


@pytest.mark.parametrize("kind", ["expired", "self-signed", "wrong-host"])
async def test_without_verification_a_bad_certificate_is_up_and_its_expiry_still_known(
    prober: Prober, tls_server: TlsServers, kind: str
) -> None:
    result = await probe(prober, tls_server(kind).url("/ok"), verify_tls=False)

    assert result.state is ProbeState.UP
    assert result.cert_expires_at is not None
    if kind == "expired":
        assert result.cert_expires_at < datetime.now(UTC)


@pytest.mark.parametrize(
    ("left", "state", "cause"),
    [
        (timedelta(days=6, hours=1), ProbeState.DEGRADED, "certificate expires in 6 days"),
        (timedelta(hours=5, minutes=3), ProbeState.DEGRADED, "certificate expires in 5 hours"),
        (-timedelta(days=1), ProbeState.DEGRADED, "TLS certificate has expired"),
        (timedelta(days=15), ProbeState.UP, None),
    ],
)
async def test_a_certificate_close_to_expiry_is_degraded(
    prober: Prober,
    tls_server: TlsServers,
    left: timedelta,
    state: ProbeState,
    cause: str | None,
) -> None:
    monitor = http(tls_server("valid").url("/ok"), expect={"cert_valid_for": "14d"})

    result = await prober.probe(monitor, now=tls_server.expires_at - left)

    assert (result.state, result.cause) == (state, cause)


async def test_https_redirect_reports_the_certificate_of_the_https_hop(
    prober: Prober, tls_server: TlsServers, http_server: HttpServer
) -> None:
    target = tls_server("valid").url("/ok")
    http_server.routes["/to-https"] = redirect(target)

    result = await probe(prober, http_server.url("/to-https"))

    assert (result.state, result.cert_expires_at) == (ProbeState.UP, tls_server.expires_at)


async def test_a_heartbeat_monitor_cannot_be_probed(prober: Prober) -> None:
    monitor = HeartbeatMonitor(id="backup", name="Backup", type="heartbeat", token="t" * 16)

    with pytest.raises(ValueError, match="push-based"):
        await prober.probe(monitor)


async def test_one_prober_serves_many_concurrent_probes(
    prober: Prober, http_server: HttpServer, closed_port: int
) -> None:
    urls = [http_server.url("/ok"), f"http://127.0.0.1:{closed_port}/"] * 50

    results = await _gather(prober, urls)

    states = [r.state for r in results]
    assert states == [ProbeState.UP, ProbeState.DOWN] * 50


async def _gather(prober: Prober, urls: list[str]) -> list[ProbeResult]:
    return list(await asyncio.gather(*(probe(prober, url) for url in urls)))


# ---- causes from server data -----------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(deadline=None, max_examples=200)
@given(document=_json_values, expected=_json_values)
def test_a_json_cause_is_one_short_line_whatever_the_server_sent(
    document: Any, expected: Any
) -> None:
    body = json.dumps({"status": document}).encode()

    cause = json_paths_failure(body, {"status": expected})

    if cause is not None:
        assert cause.text.splitlines() == [cause.text]
        assert len(cause.text) <= 2 * QUOTE_LIMIT + 40
