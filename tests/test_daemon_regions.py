"""Three regions on one PostgreSQL, each daemon probing from its own loopback address.

The target answers 503 to the source addresses a test chooses, so a region can be made to see
an outage the others do not. One region failing is stored and shown per region and pages no
one; two of three open one incident with one page; killing the daemon that evaluates the
monitor moves its shards within 15 s without a second message, the region it ran in is
announced unavailable once (and available once when it is back), and the restarted daemon
carries on with the same incident.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.daemon_helpers import (
    Daemon,
    Database,
    daemon_config,
    free_port,
    gaps,
    now,
    wait_for,
)
from tests.db_fixtures import fresh_db_url
from upwatch.engine.phase import shard_of
from upwatch.store.tables import OUTBOX

pytestmark = pytest.mark.slow

REGIONS = {"us": "127.0.0.2", "eu": "127.0.0.3", "ap": "127.0.0.4"}
TAKEOVER_LIMIT = timedelta(seconds=15)


class RegionalTarget:
    """HTTP on 127.0.0.1: 503 to the source addresses in `failing`, 200 to the others."""

    def __init__(self) -> None:
        self.failing: set[str] = set()
        self.hits: dict[str, list[datetime]] = {}
        self.lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status = target.answer(self.client_address[0])
                body = b"ok\n" if status == 200 else b"unavailable\n"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, source: str) -> int:
        with self.lock:
            self.hits.setdefault(source, []).append(now())
            return 503 if source in self.failing else 200

    def fail_for(self, *regions: str) -> None:
        with self.lock:
            self.failing = {REGIONS[r] for r in regions}

    def hits_from(self, region: str, since: datetime) -> list[datetime]:
        with self.lock:
            return [t for t in self.hits.get(REGIONS[region], []) if t > since]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/health"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def regional_target() -> Iterator[RegionalTarget]:
    server = RegionalTarget()
    yield server
    server.close()


@pytest.fixture
def fleet(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    daemons: Callable[..., Daemon],
    regional_target: RegionalTarget,
) -> tuple[dict[str, Daemon], str]:
    db_url = fresh_db_url("postgres", request, tmp_path)
    monitor = (
        f"- {{id: api, name: API, url: '{regional_target.url}', regions: [us, eu, ap], "
        "confirm: 2}\n"
    )
    config = daemon_config(monitor, hook_port=free_port())
    nodes = {}
    for region, address in REGIONS.items():
        env = {
            "UPWATCH_INSTANCE": f"node-{region}",
            "UPWATCH_REGION": region,
            "UPWATCH_SOURCE_ADDRESS": address,
        }
        node = daemons(db_url, env, name=f"node-{region}")
        node.write_config(config)
        nodes[region] = node.start()
    for node in nodes.values():
        node.wait_healthy()
    return nodes, db_url


def evaluates(daemon: Daemon, monitor_id: str = "api") -> bool:
    """Whether the daemon holds the monitor's shard in the global space (it evaluates it)."""
    return shard_of(monitor_id) in daemon.held_shards()


def evaluator(nodes: dict[str, Daemon]) -> str:
    holding = [r for r, d in nodes.items() if d.running and evaluates(d)]
    return holding[0] if len(holding) == 1 else ""


def settled(nodes: dict[str, Daemon]) -> bool:
    """Every global shard held by exactly one daemon, each holding its share: no hand-over of
    the start is still under way."""
    holdings = [d.held_shards() for d in nodes.values()]
    every = sorted(s for h in holdings for s in h)
    return every == list(range(64)) and all(0 < len(h) <= 22 for h in holdings)


def region_rows(db: Database, region: str, state: str, since: datetime) -> int:
    return sum(
        1
        for r in db.results("api")
        if r.region == region and r.state == state and r.checked_at > since
    )


def outbox_events(db: Database, event: str) -> int:
    query = select(func.count()).select_from(OUTBOX).where(OUTBOX.c.event == event)
    return int(db.rows(query)[0][0])


def test_one_region_failing_is_stored_and_shown_per_region_and_pages_no_one(
    fleet: tuple[dict[str, Daemon], str],
    regional_target: RegionalTarget,
    database: Callable[[str], Database],
) -> None:
    nodes, db_url = fleet
    db = database(db_url)
    regional_target.fail_for("eu")
    start = now()
    wait_for(
        lambda: (
            region_rows(db, "eu", "down", start) >= 6 and region_rows(db, "us", "up", start) >= 6
        ),
        "six rounds with eu failing alone",
        deadline=40,
    )
    assert db.incidents("api") == []
    for region in REGIONS:  # each region probes once per interval, from its own address
        hits = regional_target.hits_from(region, start)
        assert len(hits) >= 5, region
    detail = nodes["us"].api("/api/v1/monitors/api")
    shown = {r["region"]: r["state"] for r in detail["regions"]}
    assert shown == {"us": "up", "eu": "down", "ap": "up"}
    assert detail["state"] == "up"
    metrics = nodes["ap"].get("/metrics").text
    for region in REGIONS:  # every region's instance beats, as seen from each of them
        assert f'upwatch_region_up{{region="{region}"}} 1.0' in metrics
    page = nodes["ap"].get("/monitors/api").text
    assert "From each region" in page
    assert "Down: " in page


def test_two_of_three_page_once_and_losing_the_evaluator_neither_repeats_nor_ends_it(
    fleet: tuple[dict[str, Daemon], str],
    regional_target: RegionalTarget,
    database: Callable[[str], Database],
) -> None:
    nodes, db_url = fleet
    db = database(db_url)
    wait_for(lambda: settled(nodes), "the three daemons to split the 64 shards")
    owner = wait_for(lambda: evaluator(nodes), "one daemon to evaluate api")
    failing = [r for r in REGIONS if r != owner]  # the evaluator's own region stays up
    regional_target.fail_for(*failing)

    incidents = wait_for(lambda: db.incidents("api"), "an incident", deadline=30)
    (incident,) = incidents
    assert incident.cause.startswith(f"down from {failing[0]} and {failing[1]}: ")
    wait_for(
        lambda: db.outbox_counts(incident.id).get(("incident.opened", "hook")) == 1,
        "the opened message",
    )

    nodes[owner].kill()
    killed = now()
    new_owner = wait_for(lambda: evaluator(nodes), "another daemon to evaluate api", deadline=25)
    assert nodes[new_owner].took_at(shard_of("api")) - killed <= TAKEOVER_LIMIT
    # The owner's region is gone: it votes unknown, and the two failing ones still decide.
    wait_for(
        lambda: outbox_events(db, "region.unavailable") == 1,
        f"{owner} announced unavailable once",
        deadline=60,
    )
    metrics = nodes[new_owner].get("/metrics").text
    assert f'upwatch_region_up{{region="{owner}"}} 0.0' in metrics
    assert [i.id for i in db.incidents("api")] == [incident.id]
    assert db.incidents("api")[0].resolved_at is None

    nodes[owner].start()
    nodes[owner].wait_healthy()
    wait_for(lambda: outbox_events(db, "region.available") == 1, f"{owner} available again")
    back = now()
    wait_for(lambda: region_rows(db, owner, "up", back) >= 3, f"{owner} probing again")
    assert [i.id for i in db.incidents("api")] == [incident.id]
    assert db.outbox_counts(incident.id)[("incident.opened", "hook")] == 1
    assert outbox_events(db, "region.unavailable") == 1

    regional_target.fail_for()
    wait_for(lambda: db.incidents("api")[0].resolved_at is not None, "the recovery")
    assert len(db.incidents("api")) == 1


def region_held(daemon: Daemon) -> set[int]:
    return daemon.held_shards("region shards")


def test_a_killed_instance_s_region_shards_move_to_another_instance_of_that_region(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    daemons: Callable[..., Daemon],
    regional_target: RegionalTarget,
    database: Callable[[str], Database],
) -> None:
    db_url = fresh_db_url("postgres", request, tmp_path)
    monitor = f"- {{id: api, name: API, url: '{regional_target.url}', regions: [us, eu]}}\n"
    config = daemon_config(monitor, hook_port=free_port())
    nodes = []
    for name, region in (("us-1", "us"), ("us-2", "us"), ("eu-1", "eu")):
        env = {"UPWATCH_INSTANCE": name, "UPWATCH_REGION": region}
        node = daemons(db_url, env, name=name)
        node.write_config(config)
        nodes.append(node.start())
    for node in nodes:
        node.wait_healthy()
    us_1, us_2, _ = nodes
    shard = shard_of("api")
    wait_for(
        lambda: (
            len(region_held(us_1)) + len(region_held(us_2)) == 64
            and bool(region_held(us_1))
            and bool(region_held(us_2))
        ),
        "the two us instances to split us's shards",
    )
    holder, other = (us_1, us_2) if shard in region_held(us_1) else (us_2, us_1)
    db = database(db_url)
    holder.kill()
    killed = now()
    wait_for(lambda: shard in region_held(other), "us's shard of api to move within us")
    assert other.took_at(shard, "region shards") - killed <= TAKEOVER_LIMIT
    wait_for(lambda: region_rows(db, "us", "up", killed) >= 3, "us probing api again")
    probed_from_us = [r.checked_at for r in db.results("api") if r.region == "us"]
    assert min(gaps(probed_from_us)) > 0.5  # one us instance at a time probed it, before and after
    assert outbox_events(db, "region.unavailable") == 0  # us never went away
