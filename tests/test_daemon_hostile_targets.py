"""Targets that try to stall the daemon: a monitor beside them keeps its cadence, /healthz too.

A `body_regex` that backtracks catastrophically under Python's `re` (nested quantifiers against a
body of almost-matching text) is matched by RE2 in linear time, so a 1 s canary
monitor next to it is probed every second and /healthz answers within a second throughout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

import httpx
import pytest

from tests.daemon_helpers import (
    Daemon,
    Database,
    Target,
    daemon_config,
    free_port,
    gaps,
    now,
    wait_for,
)
from tests.probe_servers import HttpServer, respond

pytestmark = pytest.mark.slow

# ~1 MiB of "a" and one "!": under the default max_body (1 MiB), so the whole body is matched,
# and no pattern below can match it, so a backtracking engine would try every way of splitting it.
BACKTRACKING = (b"a" * 1_000_000 + b"!", ["^(a+)+$", "^(a|a)*$", "^(a|aa)+$"])
WATCHED = 8.0  # seconds of steady running during which the canary and /healthz are checked
HEALTHZ_WITHIN = 1.0
CANARY_GAP_AT_MOST = 2.5  # interval 1 s, with room for a loaded 2-core machine


def hostile_monitors(server: HttpServer, patterns: list[str]) -> str:
    url = server.url("/hostile/mib")
    return "".join(
        f"- {{id: hostile-{i}, name: Hostile {i}, url: '{url}', timeout: 900ms, "
        f"expect: {{body_regex: '{pattern}'}}}}\n"
        for i, pattern in enumerate(patterns)
    )


def timed_healthz(daemon: Daemon) -> tuple[int | None, float]:
    began = time.monotonic()
    try:
        status: int | None = daemon.http.get("/healthz", timeout=HEALTHZ_WITHIN * 5).status_code
    except httpx.TransportError:
        status = None
    return status, time.monotonic() - began


def checked_between(
    db: Database, monitor_id: str, start: datetime, end: datetime
) -> list[datetime]:
    return [r.checked_at for r in db.results(monitor_id) if start <= r.checked_at <= end]


def judged_on_body(db: Database, monitor_id: str, pattern: str) -> bool:
    cause = f'body does not match "{pattern}"'
    return any(r.cause == cause and r.state == "down" for r in db.results(monitor_id))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_canary_keeps_its_cadence_and_healthz_answers_beside_hostile_regex_targets(
    db_url: str,
    daemons: Callable[..., Daemon],
    target: Target,
    http_server: HttpServer,
    database: Callable[[str], Database],
) -> None:
    body, patterns = BACKTRACKING
    http_server.routes["/hostile/mib"] = respond(200, body)
    canary = f"- {{id: canary, name: Canary, url: '{target.url('/canary')}'}}\n"
    daemon = daemons(db_url)
    daemon.write_config(
        daemon_config(hostile_monitors(http_server, patterns) + canary, hook_port=free_port())
    )
    daemon.start().wait_healthy()
    db = database(db_url)

    # The hostile monitors are really judged on the whole body (not timed out): RE2 ran on it.
    for i, pattern in enumerate(patterns):
        wait_for(partial(judged_on_body, db, f"hostile-{i}", pattern), f"hostile-{i}'s verdict")
    wait_for(lambda: db.results("canary"), "the canary's first result")

    start = now()
    watched_until = time.monotonic() + WATCHED
    answers: list[tuple[int | None, float]] = []
    while time.monotonic() < watched_until:
        answers.append(timed_healthz(daemon))
        assert daemon.running, daemon.tail()
        time.sleep(0.25)  # the polling pace; every answer is checked below
    end = now()

    assert len(answers) >= WATCHED / 2
    slow = [(status, round(took, 2)) for status, took in answers if status != 200 or took >= 1.0]
    assert not slow, f"/healthz not 200 within {HEALTHZ_WITHIN}s: {slow}"

    # The hostile targets were probed all along, not starved or skipped.
    hostile_hits = [r for r in http_server.requests if r.path == "/hostile/mib"]
    assert len([r for r in hostile_hits if r.received_at >= watched_until - WATCHED]) >= WATCHED

    # Results are written in batches: wait for those of the watched window to land.
    wait_for(
        lambda: checked_between(db, "canary", end - timedelta(seconds=2), end + timedelta(hours=1)),
        "the canary's results up to the end of the window",
    )
    canary_times = checked_between(db, "canary", start, end)
    assert len(canary_times) >= WATCHED - 2, canary_times
    edges = [start, *canary_times, end]
    assert max(gaps(edges)) <= CANARY_GAP_AT_MOST, gaps(edges)
    assert all(r.state == "up" for r in db.results("canary"))
