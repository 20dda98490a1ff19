"""TLS trust for HTTP monitors behind a private CA: the same checks as for public certificates.

Each test builds its own CA with trustme and serves from 127.0.0.1; the Prober trusts nothing
extra, so only the monitor's `tls` block (or the environment's trust store) can make it trust.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trustme
import uvloop

from tests.probe_servers import HttpServer, LoopThread, default_routes
from upwatch.config.models import HttpMonitor
from upwatch.probes.prober import Prober
from upwatch.probes.result import ProbeResult, ProbeState

UNTRUSTED = "TLS certificate is not trusted (unknown issuer or incomplete chain)"


@pytest.fixture(scope="module", params=["asyncio", "uvloop"])
def event_loop_policy(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoopPolicy:
    if request.param == "uvloop":
        return uvloop.EventLoopPolicy()
    return asyncio.DefaultEventLoopPolicy()


@pytest.fixture
def private_ca(tmp_path: Path) -> trustme.CA:
    ca = trustme.CA(organization_name="Acme Internal")
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    return ca


@pytest.fixture
async def prober() -> AsyncIterator[Prober]:
    async with Prober() as prober:  # no extra CA: trust comes from the monitor or environment
        yield prober


def serve(
    thread: LoopThread,
    leaf: trustme.LeafCert,
    *,
    whole_chain: bool = True,
    client_ca: trustme.CA | None = None,
) -> HttpServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    if whole_chain:
        leaf.configure_cert(context)
    else:  # the leaf alone: a server that forgot its intermediate certificate
        with leaf.private_key_pem.tempfile() as key, leaf.cert_chain_pems[0].tempfile() as cert:
            context.load_cert_chain(cert, key)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        client_ca.configure_trust(context)
    return HttpServer(thread, default_routes(), context)


def monitor(url: str, **fields: Any) -> HttpMonitor:
    fields.setdefault("timeout", "2s")
    return HttpMonitor.model_validate({"id": "internal", "name": "Internal", "url": url, **fields})


async def probe(prober: Prober, url: str, **fields: Any) -> ProbeResult:
    return await prober.probe(monitor(url, **fields))


async def test_a_private_ca_in_ca_file_is_trusted_and_the_expiry_known(
    prober: Prober, server_thread: LoopThread, private_ca: trustme.CA, tmp_path: Path
) -> None:
    not_after = datetime(2027, 6, 1, tzinfo=UTC)
    server = serve(server_thread, private_ca.issue_cert("127.0.0.1", not_after=not_after))

    result = await probe(prober, server.url("/ok"), tls={"ca_file": str(tmp_path / "ca.pem")})

    assert (result.state, result.cert_expires_at) == (ProbeState.UP, not_after)
    assert "tls" in result.phases


async def test_without_the_private_ca_the_same_server_is_untrusted(
    prober: Prober, server_thread: LoopThread, private_ca: trustme.CA
) -> None:
    server = serve(server_thread, private_ca.issue_cert("127.0.0.1"))

    result = await probe(prober, server.url("/ok"))

    assert (result.state, result.cause) == (ProbeState.DOWN, UNTRUSTED)


async def test_a_private_ca_as_pem_text_is_trusted(
    prober: Prober, server_thread: LoopThread, private_ca: trustme.CA
) -> None:
    server = serve(server_thread, private_ca.issue_cert("127.0.0.1"))

    result = await probe(
        prober, server.url("/ok"), tls={"ca_pem": private_ca.cert_pem.bytes().decode()}
    )

    assert result.state is ProbeState.UP


async def test_ssl_cert_file_from_the_environment_is_trusted(
    server_thread: LoopThread,
    private_ca: trustme.CA,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = serve(server_thread, private_ca.issue_cert("127.0.0.1"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))

    async with Prober() as prober:
        result = await probe(prober, server.url("/ok"))

    assert result.state is ProbeState.UP


async def test_a_server_missing_its_intermediate_is_untrusted_and_whole_it_is_up(
    prober: Prober, server_thread: LoopThread, private_ca: trustme.CA, tmp_path: Path
) -> None:
    intermediate = private_ca.create_child_ca()
    leaf = intermediate.issue_cert("127.0.0.1")
    trust = {"ca_file": str(tmp_path / "ca.pem")}

    broken = await probe(
        prober, serve(server_thread, leaf, whole_chain=False).url("/ok"), tls=trust
    )
    whole = await probe(prober, serve(server_thread, leaf).url("/ok"), tls=trust)

    assert (broken.state, broken.cause) == (ProbeState.DOWN, UNTRUSTED)
    assert whole.state is ProbeState.UP


@pytest.mark.parametrize(
    ("hosts", "expires_in", "state", "cause"),
    [
        (["127.0.0.1"], timedelta(days=-2), ProbeState.DOWN, "TLS certificate has expired"),
        (
            ["elsewhere.internal"],
            timedelta(days=90),
            ProbeState.DOWN,
            "TLS certificate not valid for this host",
        ),
        (
            ["127.0.0.1"],
            timedelta(days=5, hours=1),
            ProbeState.DEGRADED,
            "certificate expires in 5 days",
        ),
    ],
)
async def test_private_certificates_are_checked_like_public_ones(
    prober: Prober,
    server_thread: LoopThread,
    private_ca: trustme.CA,
    tmp_path: Path,
    hosts: list[str],
    expires_in: timedelta,
    state: ProbeState,
    cause: str,
) -> None:
    now = datetime.now(UTC)
    not_before = now - timedelta(days=30)
    leaf = private_ca.issue_cert(*hosts, not_before=not_before, not_after=now + expires_in)
    server = serve(server_thread, leaf)

    result = await probe(
        prober,
        server.url("/ok"),
        tls={"ca_file": str(tmp_path / "ca.pem")},
        expect={"cert_valid_for": "14d"},
    )

    assert (result.state, result.cause) == (state, cause)


async def test_server_name_is_the_name_checked_against_the_certificate(
    prober: Prober, server_thread: LoopThread, private_ca: trustme.CA, tmp_path: Path
) -> None:
    server = serve(server_thread, private_ca.issue_cert("api.internal"))
    tls = {"ca_file": str(tmp_path / "ca.pem"), "server_name": "api.internal"}

    result = await probe(prober, server.url("/ok"), tls=tls)

    assert result.state is ProbeState.UP


async def test_a_client_certificate_opens_a_server_that_demands_one(
    prober: Prober, server_thread: LoopThread, private_ca: trustme.CA, tmp_path: Path
) -> None:
    server = serve(server_thread, private_ca.issue_cert("127.0.0.1"), client_ca=private_ca)
    client = private_ca.issue_cert("upwatch@acme.internal")
    client.cert_chain_pems[0].write_to_path(str(tmp_path / "client.pem"))
    client.private_key_pem.write_to_path(str(tmp_path / "client.key"))
    ca_file = str(tmp_path / "ca.pem")

    refused = await probe(prober, server.url("/ok"), tls={"ca_file": ca_file})
    from_files = await probe(
        prober,
        server.url("/ok"),
        tls={
            "ca_file": ca_file,
            "cert_file": str(tmp_path / "client.pem"),
            "key_file": str(tmp_path / "client.key"),
        },
    )
    from_text = await probe(
        prober,
        server.url("/ok"),
        tls={
            "ca_file": ca_file,
            "cert_pem": client.cert_chain_pems[0].bytes().decode(),
            "key_pem": client.private_key_pem.bytes().decode(),
        },
    )

    assert refused.state is ProbeState.DOWN
    assert (from_files.state, from_text.state) == (ProbeState.UP, ProbeState.UP)


async def test_verify_tls_false_wins_over_a_tls_block(
    prober: Prober, server_thread: LoopThread, private_ca: trustme.CA
) -> None:
    server = serve(server_thread, trustme.CA().issue_cert("elsewhere.internal"))

    result = await probe(
        prober, server.url("/ok"), verify_tls=False, tls={"server_name": "x.internal"}
    )

    assert result.state is ProbeState.UP
