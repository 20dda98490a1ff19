"""The TCP and DNS probes against real listeners and a tiny DNS server on 127.0.0.1."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.probe_servers import HttpServer
from upwatch.config.models import DnsMonitor, TcpMonitor
from upwatch.probes.prober import Prober
from upwatch.probes.result import ProbeResult, ProbeState


def tcp(host: str, port: int, **fields: Any) -> TcpMonitor:
    fields.setdefault("timeout", "1s")
    return TcpMonitor.model_validate(
        {"id": "db", "name": "DB", "type": "tcp", "host": host, "port": port, **fields}
    )


def dns_monitor(port: int, hostname: str, record_type: str = "A", **fields: Any) -> DnsMonitor:
    fields.setdefault("timeout", "1s")
    return DnsMonitor.model_validate(
        {
            "id": "dns",
            "name": "DNS",
            "type": "dns",
            "hostname": hostname,
            "record_type": record_type,
            "nameserver": "127.0.0.1",
            "port": port,
            **fields,
        }
    )


@pytest.fixture
def slow_resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The system resolver answers 127.0.0.1 only once the returned event is set."""
    answer = threading.Event()
    real = socket.getaddrinfo

    def waiting_getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        answer.wait(10)
        return real("127.0.0.1", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", waiting_getaddrinfo)
    yield answer
    answer.set()


# ---- TCP -------------------------------------------------------------------------------------


async def test_an_open_port_is_up(prober: Prober, http_server: HttpServer) -> None:
    result = await prober.probe(tcp("127.0.0.1", http_server.port))

    assert (result.state, result.cause) == (ProbeState.UP, None)
    assert list(result.phases) == ["connect"]


async def test_a_host_name_is_resolved_then_connected(
    prober: Prober, http_server: HttpServer
) -> None:
    result = await prober.probe(tcp("localhost", http_server.port))

    assert result.state is ProbeState.UP
    assert list(result.phases) == ["dns", "connect"]


async def test_a_closed_port_is_refused(prober: Prober, closed_port: int) -> None:
    result = await prober.probe(tcp("127.0.0.1", closed_port))

    assert (result.state, result.cause) == (ProbeState.DOWN, "connection refused")


async def test_an_unresolvable_host_is_down_naming_it_only_privately(prober: Prober) -> None:
    result = await prober.probe(tcp("nonexistent.invalid", 5432))

    assert (result.state, result.cause) == (
        ProbeState.DOWN,
        "could not resolve nonexistent.invalid",
    )
    assert result.public_cause == "could not resolve the host name"


async def test_a_slow_connection_is_degraded(
    prober: Prober, http_server: HttpServer, slow_resolver: threading.Event
) -> None:
    # The event is set from another thread after 50 ms: a resolver that is slow, not hung.
    threading.Timer(0.05, slow_resolver.set).start()

    result = await prober.probe(
        tcp("db.internal", http_server.port, expect={"response_time_under": "20ms"})
    )

    assert result.state is ProbeState.DEGRADED
    assert re.fullmatch(r"response took \d+ms, expected under 20ms", result.cause or "")


async def test_a_hung_resolver_is_cut_off_at_the_deadline(
    prober: Prober, http_server: HttpServer, slow_resolver: threading.Event
) -> None:
    result = await prober.probe(tcp("db.internal", http_server.port))

    assert (result.state, result.cause) == (
        ProbeState.DOWN,
        "timed out after 1s resolving db.internal",
    )
    assert 1 <= result.duration < 1.5


# ---- DNS -------------------------------------------------------------------------------------


def assert_state(result: ProbeResult, state: ProbeState, cause: str | None = None) -> None:
    assert (result.state, result.cause) == (state, cause)


@pytest.mark.parametrize(
    ("record_type", "records"),
    [
        ("A", None),
        ("A", ["203.0.113.11"]),
        ("A", ["203.0.113.10", "203.0.113.11"]),
        ("MX", ["mail.acme.test"]),
        ("MX", ["10 Mail.Acme.Test.", "backup.acme.test"]),
        ("TXT", ['"v=spf1 include:_spf.acme.test ~all"']),
        ("TXT", ["token=AbCdef"]),
    ],
)
async def test_expected_records_among_the_answers_are_up(
    prober: Prober, dns_port: int, record_type: str, records: list[str] | None
) -> None:
    expect = {} if records is None else {"records": records}
    monitor = dns_monitor(dns_port, "acme.test", record_type, expect=expect)

    result = await prober.probe(monitor)

    assert_state(result, ProbeState.UP)
    assert list(result.phases) == ["dns"]


async def test_a_cname_matches_without_the_trailing_dot(prober: Prober, dns_port: int) -> None:
    monitor = dns_monitor(dns_port, "www.acme.test", "CNAME", expect={"records": ["ACME.test"]})

    assert_state(await prober.probe(monitor), ProbeState.UP)


@pytest.mark.parametrize(
    ("record_type", "records", "cause"),
    [
        ("A", ["198.51.100.7"], "expected record 198.51.100.7, got 203.0.113.10, 203.0.113.11"),
        (
            "MX",
            ["30 mail.acme.test"],
            "expected record 30 mail.acme.test, got 10 mail.acme.test, 20 backup.acme.test",
        ),
        (
            "TXT",
            ["token=abcdef"],
            'expected record "token=abcdef", got "token=AbCdef", '
            '"v=spf1 include:_spf.acme.test ~all"',
        ),
    ],
)
async def test_a_missing_expected_record_is_down(
    prober: Prober, dns_port: int, record_type: str, records: list[str], cause: str
) -> None:
    monitor = dns_monitor(dns_port, "acme.test", record_type, expect={"records": records})

    result = await prober.probe(monitor)

    assert_state(result, ProbeState.DOWN, cause)
    assert result.public_cause == f"expected {record_type} record not in the DNS answer"


async def test_a_name_that_does_not_exist_is_down(prober: Prober, dns_port: int) -> None:
    result = await prober.probe(dns_monitor(dns_port, "nope.acme.test"))

    assert_state(result, ProbeState.DOWN, "nope.acme.test does not exist (NXDOMAIN)")
    assert result.public_cause == "domain does not exist (NXDOMAIN)"


async def test_a_name_without_records_of_the_type_is_down(prober: Prober, dns_port: int) -> None:
    result = await prober.probe(dns_monitor(dns_port, "acme.test", "AAAA"))

    assert_state(result, ProbeState.DOWN, "no AAAA records for acme.test")
    assert result.public_cause == "no AAAA records"


async def test_a_dns_server_that_never_answers_is_down_at_the_deadline(
    prober: Prober, dns_port: int
) -> None:
    result = await prober.probe(dns_monitor(dns_port, "silent.acme.test"))

    assert_state(result, ProbeState.DOWN, "timed out after 1s waiting for the DNS server")
    assert 1 <= result.duration < 1.5


async def test_a_nameserver_given_by_name_is_resolved_first(prober: Prober, dns_port: int) -> None:
    monitor = dns_monitor(dns_port, "acme.test", nameserver="localhost")

    assert_state(await prober.probe(monitor), ProbeState.UP)
