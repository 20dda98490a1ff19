"""File descriptors: the soft limit raised at start, and a share of it kept from HTTP clients.

Every probe, database connection and HTTP client holds a descriptor. Processes often start with a
soft limit of 1024 (256 in some containers), and idle HTTP clients used to take all of them:
probes then failed with "could not connect" and /healthz stopped answering. So the daemon raises
its soft limit to the hard limit (the most it may use without privileges), and caps open HTTP
connections so that probes and the database keep their share.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import structlog

if sys.platform != "win32":
    import resource

log = structlog.get_logger("upwatch")

# Descriptors that are neither probes nor HTTP clients: stdio, the event loop, the listening
# socket, up to two database pools of 15 connections (SQLite adds a WAL file per connection and
# a lock file per shard holder), the notifier's sends, threads rendering pages. Counted generously.
RESERVED = 96
# A probe holds its connection, and while it runs its DNS lookup's socket (a lookup that outlives a
# timed-out probe keeps its own a little longer).
PER_PROBE = 2
# A status page behind a proxy needs a few dozen connections; a thousand idle clients is an attack.
MAX_HTTP_CONNECTIONS = 1000
MIN_HTTP_CONNECTIONS = 16
# Raise an unlimited hard limit (macOS) only this far: the kernel caps it anyway.
UNLIMITED_TARGET = 65536


@dataclass(frozen=True, slots=True)
class FdBudget:
    limit: int  # the soft limit the process runs with
    http_connections: int  # the HTTP server's cap
    probes: int  # descriptors left for probes (PER_PROBE each)
    reserved: int = RESERVED


def plan(limit: int, probe_concurrency: int) -> FdBudget:
    """Split `limit` descriptors: the reserve first, then probes, then HTTP (within its bounds).

    HTTP clients get at least a third of what the reserve leaves, even when that is too little
    for every probe the scheduler may run at once: /healthz must answer, and a few dozen
    connections are enough for it because idle clients are pushed out first (see `http_guard`).
    """
    room = max(0, limit - RESERVED)
    http = max(room - probe_concurrency * PER_PROBE, room // 3)
    http = max(MIN_HTTP_CONNECTIONS, min(MAX_HTTP_CONNECTIONS, http))
    return FdBudget(limit=limit, http_connections=http, probes=max(0, room - http))


def raise_soft_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit; (before, after) soft limits."""
    if sys.platform == "win32":  # no such limit: sockets are handles
        return MAX_HTTP_CONNECTIONS * 4, MAX_HTTP_CONNECTIONS * 4
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = UNLIMITED_TARGET if hard == resource.RLIM_INFINITY else hard
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft, soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):  # a sandbox that forbids it: live with the soft limit
        return soft, soft
    return soft, target


def budget_at_start(probe_concurrency: int) -> FdBudget:
    """Raise the limit, split it, and log the split once."""
    before, limit = raise_soft_limit()
    budget = plan(limit, probe_concurrency)
    log.info(
        "file descriptors budgeted",
        limit=limit,
        raised_from=before,
        http_connections=budget.http_connections,
        probes=budget.probes,
        reserved=budget.reserved,
    )
    wanted = probe_concurrency * PER_PROBE
    if budget.probes < wanted:
        log.warning(
            "file descriptor limit is low: probes beyond the budget may fail with "
            "'could not connect'",
            limit=limit,
            probes_at_once=budget.probes // PER_PROBE,
            scheduler_allows=probe_concurrency,
            fix=f"raise the hard limit to {RESERVED + wanted + MAX_HTTP_CONNECTIONS} or more "
            "(docker run --ulimit nofile=65536, LimitNOFILE= in a systemd unit)",
        )
    return budget
