"""The DNS probe: query one record type, DOWN when the name or the expected records are missing."""

from __future__ import annotations

import asyncio
import contextlib

import dns.asyncbackend
import dns.asyncresolver
import dns.exception
import dns.name
import dns.resolver

from upwatch.config.durations import format_duration
from upwatch.config.models import DnsMonitor
from upwatch.probes.dns_records import answer_values, records_failure
from upwatch.probes.errors import describe
from upwatch.probes.outcome import Cause, Started, slow_cause
from upwatch.probes.resolve import is_ip_literal, resolve
from upwatch.probes.result import ProbeResult


class DnsResolvers:
    """The system resolver (its configuration read once) and one resolver per nameserver."""

    def __init__(self, *, source: str | None = None) -> None:
        self.source = source  # the local address queries leave from (None: the kernel's choice)
        self._system: dns.asyncresolver.Resolver | None = None
        self._explicit: dict[tuple[tuple[str, ...], int], dns.asyncresolver.Resolver] = {}
        self.backend = dns.asyncbackend.get_backend("asyncio")

    def system(self) -> dns.asyncresolver.Resolver:
        if self._system is None:
            self._system = dns.asyncresolver.Resolver()  # raises NoResolverConfiguration
        return self._system

    def explicit(self, addresses: tuple[str, ...], port: int) -> dns.asyncresolver.Resolver:
        resolver = self._explicit.get((addresses, port))
        if resolver is None:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = list(addresses)
            resolver.port = port
            self._explicit[(addresses, port)] = resolver
        return resolver


class DnsProbe:
    """Queries through the resolvers it is given (the system's read once, one per nameserver)."""

    def __init__(self, resolvers: DnsResolvers) -> None:
        self.resolvers = resolvers

    def prepare(self, monitor: DnsMonitor) -> None:
        # Reading /etc/resolv.conf is setup, not the DNS server's answer time; a machine without
        # one is reported by the probe itself.
        if monitor.nameserver is None:
            with contextlib.suppress(dns.exception.DNSException):
                self.resolvers.system()

    async def run(self, monitor: DnsMonitor, started: Started) -> ProbeResult:
        return await probe_dns(self.resolvers, monitor, started)

    async def aclose(self) -> None:
        return None


async def probe_dns(resolvers: DnsResolvers, monitor: DnsMonitor, started: Started) -> ProbeResult:
    seconds = monitor.timeout.total_seconds()
    failure: Cause | None = None
    try:
        # dnspython's lifetime bounds the query; asyncio.timeout also bounds resolving the
        # nameserver's own name and anything dnspython might not interrupt.
        async with asyncio.timeout(seconds):
            answers = await _query(resolvers, monitor, seconds)
    except TimeoutError:
        failure = _timed_out(monitor)
    except dns.exception.DNSException as exc:
        failure = _dns_failure(exc, monitor)
    except OSError as exc:
        failure = describe(exc, monitor.nameserver or monitor.hostname)
    else:
        if monitor.expect.records:
            failure = records_failure(monitor.expect.records, answers, monitor.record_type)
    phases = {"dns": started.elapsed()}
    slow = None if failure else slow_cause(monitor.expect.response_time_under, phases["dns"])
    return started.judged(failure, [] if slow is None else [slow], phases=phases)


async def _query(resolvers: DnsResolvers, monitor: DnsMonitor, seconds: float) -> list[str]:
    if monitor.nameserver is None:
        resolver = resolvers.system()
    elif is_ip_literal(monitor.nameserver):
        resolver = resolvers.explicit((monitor.nameserver,), monitor.port)
    else:  # a nameserver given by name: each of its addresses, tried in turn by dnspython
        addresses = tuple(await resolve(monitor.nameserver, monitor.port))
        resolver = resolvers.explicit(addresses, monitor.port)
    answer = await resolver.resolve(
        dns.name.from_text(monitor.hostname),
        monitor.record_type,
        lifetime=seconds,
        search=False,
        backend=resolvers.backend,
        source=resolvers.source,
    )
    return answer_values(answer, monitor.record_type)


def _timed_out(monitor: DnsMonitor) -> Cause:
    return Cause.plain(
        f"timed out after {format_duration(monitor.timeout)} waiting for the DNS server"
    )


def _dns_failure(exc: dns.exception.DNSException, monitor: DnsMonitor) -> Cause:
    name, kind = monitor.hostname.rstrip("."), monitor.record_type
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return Cause(f"{name} does not exist (NXDOMAIN)", "domain does not exist (NXDOMAIN)")
    if isinstance(exc, dns.resolver.NoAnswer):
        return Cause(f"no {kind} records for {name}", f"no {kind} records")
    if isinstance(exc, dns.exception.Timeout):
        return _timed_out(monitor)
    if isinstance(exc, dns.resolver.NoNameservers):
        return Cause(
            f"no DNS server answered for {name} (SERVFAIL or refused)",
            "no DNS server answered (SERVFAIL or refused)",
        )
    if isinstance(exc, dns.resolver.NoResolverConfiguration):
        return Cause.plain("no DNS resolver configured on this machine (see /etc/resolv.conf)")
    return Cause(f"DNS query for {name} failed ({type(exc).__name__})", "DNS query failed")
