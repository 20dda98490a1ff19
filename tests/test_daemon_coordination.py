"""Several `upwatch run` processes on one database: one prober per monitor.

Two and three daemons on one PostgreSQL, two on one SQLite file: they split the 64 shards, no
monitor is probed twice in an interval, a SIGKILLed instance's shards are taken over within 15 s
without announcing its open incident again, check-ins reach whichever instance judges them, and
an older config generation steps down when a newer one starts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from tests.daemon_helpers import Daemon, Database, Target, daemon_config, free_port, now, wait_for
from tests.db_fixtures import fresh_db_url
from upwatch.engine.phase import SHARDS, shard_of
from upwatch.store.tables import CHECKINS

pytestmark = pytest.mark.slow

INTERVAL = 2.0  # seconds between probes of one monitor
TAKEOVER_LIMIT = timedelta(seconds=15)  # README: a dead process's shards are taken within 15 s
MONITORS = [f"m{i}" for i in range(12)]


@pytest.fixture(
    params=[("sqlite", 2), ("postgres", 2), ("postgres", 3)],
    ids=["sqlite-2", "postgres-2", "postgres-3"],
)
def fleet(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, int]:
    """A fresh database URL and how many daemons share it."""
    backend, count = request.param
    return fresh_db_url(backend, request, tmp_path), count


def monitors_yaml(target: Target, ids: list[str], *, interval: float = INTERVAL) -> str:
    return "".join(
        f"- {{id: {m}, name: {m}, url: '{target.url('/' + m)}', interval: {interval:g}s}}\n"
        for m in ids
    )


def start_fleet(
    daemons: Callable[..., Daemon], db_url: str, count: int, config: str
) -> list[Daemon]:
    fleet = []
    for index in range(count):
        daemon = daemons(db_url, {"UPWATCH_INSTANCE": f"node{index}"}, name=f"node{index}")
        daemon.write_config(config)
        fleet.append(daemon.start())
    for daemon in fleet:
        daemon.wait_healthy()
    return fleet


def held(daemon: Daemon) -> set[int]:
    return daemon.held_shards()


def split_evenly(fleet: list[Daemon]) -> bool:
    """Every shard held by exactly one daemon, none holding more than its fair share."""
    holdings = [held(d) for d in fleet]
    share = -(-SHARDS // len(fleet))
    every = sorted(s for h in holdings for s in h)
    return every == list(range(SHARDS)) and all(0 < len(h) <= share for h in holdings)


def holder(fleet: list[Daemon], monitor_id: str) -> Daemon:
    shard = shard_of(monitor_id)
    (owner,) = [d for d in fleet if shard in held(d)]
    return owner


def logged_at(daemon: Daemon, event: str) -> list[datetime]:
    return [datetime.fromisoformat(e["timestamp"]) for e in daemon.logged(event)]


def gaps(times: list[datetime]) -> list[float]:
    return [(b - a).total_seconds() for a, b in pairwise(times)]


@pytest.fixture
def hook_port() -> int:
    return free_port()


# ---- sharing ------------------------------------------------------------------------------------


def test_instances_split_the_shards_and_never_probe_a_monitor_twice_in_an_interval(
    fleet: tuple[str, int],
    daemons: Callable[..., Daemon],
    target: Target,
    database: Callable[[str], Database],
    hook_port: int,
) -> None:
    db_url, count = fleet
    config = daemon_config(monitors_yaml(target, MONITORS), hook_port=hook_port)
    nodes = start_fleet(daemons, db_url, count, config)
    wait_for(lambda: split_evenly(nodes), f"{count} daemons to split the 64 shards")

    settled = now()
    db = database(db_url)
    wait_for(
        lambda: all(
            len([h for h in target.hits_of("/" + m) if h > settled]) >= 4 for m in MONITORS
        ),
        "four probes of every monitor after the split",
        deadline=40,
    )
    for monitor_id in MONITORS:
        probes = target.hits_of("/" + monitor_id)
        # From the very first probe, through the hand-overs of the start: never twice at once.
        assert min(gaps(probes)) > INTERVAL * 0.5, (monitor_id, gaps(probes))
        stored = [r.checked_at for r in db.results(monitor_id)]
        assert min(gaps(stored)) > INTERVAL * 0.5, (monitor_id, gaps(stored))
    probers = {holder(nodes, m).directory.name for m in MONITORS}
    assert len(probers) == count  # twelve monitors over 64 shards: every node probes some
    for node in nodes:  # every node serves the whole status, whoever probes
        status = node.api("/api/v1/status")
        listed = {m["id"] for group in status["groups"] for m in group["monitors"]}
        assert listed == set(MONITORS)


# ---- takeover -----------------------------------------------------------------------------------


def test_a_killed_instance_s_shards_are_taken_over_within_15s_without_announcing_again(
    fleet: tuple[str, int],
    daemons: Callable[..., Daemon],
    target: Target,
    database: Callable[[str], Database],
    hook_port: int,
) -> None:
    db_url, count = fleet
    config = daemon_config(monitors_yaml(target, ["web", "api"]), hook_port=hook_port)
    nodes = start_fleet(daemons, db_url, count, config)
    wait_for(lambda: split_evenly(nodes), "the shards to be split")
    db = database(db_url)
    target.set("/web", 503)
    incident = wait_for(lambda: db.incidents("web"), "an incident on web")[0]
    owner = holder(nodes, "web")
    db.attempt_deliveries(incident.id)  # the hook was told: a resolution is owed to it
    assert db.outbox_counts(incident.id) == {("incident.opened", "hook"): 1}

    killed_at = now()
    owner.kill()
    survivors = [d for d in nodes if d is not owner]
    wait_for(lambda: split_evenly(survivors), "the survivors to take every shard", deadline=30)
    new_owner = holder(survivors, "web")
    taken = [t for t in logged_at(new_owner, "shards taken") if t > killed_at]
    assert taken, "the dead instance's shards were never taken"
    assert taken[-1] - killed_at <= TAKEOVER_LIMIT, (killed_at, taken)
    wait_for(
        lambda: [h for h in target.hits_of("/web") if h > taken[-1]], "web probed by its new owner"
    )

    target.set("/web", 200)
    wait_for(lambda: db.incidents("web")[0].resolved_at is not None, "the incident to resolve")
    (stored,) = db.incidents("web")  # the same incident: not opened again by the new owner
    assert stored.id == incident.id
    assert db.outbox_counts(incident.id) == {
        ("incident.opened", "hook"): 1,
        ("incident.resolved", "hook"): 1,
    }
    assert not any(d.logged("incident confirmed") for d in survivors)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_on_sqlite_a_restart_after_sigkill_probes_again_within_2s_of_healthy(
    db_url: str, daemons: Callable[..., Daemon], target: Target, hook_port: int
) -> None:
    # Kernel locks drop with the killed process: no waiting for its leases or heartbeat to age.
    daemon = daemons(db_url)
    daemon.write_config(
        daemon_config(monitors_yaml(target, ["web"], interval=1), hook_port=hook_port)
    )
    daemon.start().wait_healthy()
    wait_for(lambda: target.hits_of("/web"), "the first probe")
    daemon.kill()

    daemon.start()
    wait_for(lambda: daemon.healthz() == 200, "/healthz to answer 200 again", every=0.02)
    healthy_at = now()
    first = wait_for(
        lambda: [h for h in target.hits_of("/web") if h > healthy_at], "a probe after the restart"
    )[0]

    assert first - healthy_at <= timedelta(seconds=2), (healthy_at, first)
    taken = [e for e in daemon.logged("shards taken") if e.get("held") == SHARDS]
    assert taken, "the restarted instance took every shard at once"


# ---- check-ins ----------------------------------------------------------------------------------


def test_a_check_in_at_an_instance_that_does_not_judge_the_monitor_reaches_the_one_that_does(
    daemons: Callable[..., Daemon],
    target: Target,
    database: Callable[[str], Database],
    hook_port: int,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    db_url = fresh_db_url("postgres", request, tmp_path)
    monitor = "- {id: job, name: Job, type: heartbeat, token: token-1234, interval: 1h}\n"
    nodes = start_fleet(daemons, db_url, 2, daemon_config(monitor, hook_port=hook_port))
    wait_for(lambda: split_evenly(nodes), "the shards to be split")
    (other,) = [d for d in nodes if d is not holder(nodes, "job")]

    response = other.http.post("/ping/job/token-1234/fail")
    assert response.status_code == 200
    db = database(db_url)
    wait_for(lambda: db.state("job").failure_run == 1, "the failure to be judged by the holder")
    assert other.http.post("/ping/job/token-1234").status_code == 200
    wait_for(lambda: db.state("job").state == "up", "the check-in to be judged by the holder")
    assert db.rows(CHECKINS.select()) == []  # handed over exactly once, nothing left behind


# ---- generations --------------------------------------------------------------------------------


def test_an_older_config_generation_steps_down_and_keeps_serving_pages(
    fleet: tuple[str, int],
    daemons: Callable[..., Daemon],
    target: Target,
    hook_port: int,
) -> None:
    db_url, _count = fleet
    old = daemons(db_url, {"UPWATCH_INSTANCE": "old"}, name="old")
    old.write_config(
        daemon_config(monitors_yaml(target, ["shared", "retired"]), hook_port=hook_port)
    )
    old.start().wait_healthy()
    wait_for(lambda: len(held(old)) == SHARDS, "the old generation to hold every shard")
    wait_for(lambda: target.hits_of("/retired"), "the old generation to probe")

    new = daemons(db_url, {"UPWATCH_INSTANCE": "new"}, name="new")
    new.write_config(daemon_config(monitors_yaml(target, ["shared", "fresh"]), hook_port=hook_port))
    new.start().wait_healthy()
    wait_for(
        lambda: old.logged("stepping down: releasing every shard, serving pages only"),
        "old to step down",
    )
    wait_for(lambda: len(held(new)) == SHARDS, "the new generation to hold every shard")
    assert held(old) == set()
    wait_for(
        lambda: old.logged("a newer config generation is running: no longer sending messages"),
        "old to stop sending",
    )

    stepped = now()
    wait_for(
        lambda: len([h for h in target.hits_of("/fresh") if h > stepped]) >= 3,
        "the new generation to probe its monitors",
    )
    assert [h for h in target.hits_of("/retired") if h > stepped] == []
    shared = target.hits_of("/shared")
    assert min(gaps(shared)) > INTERVAL * 0.5  # handed over, never probed by both
    assert old.healthz() == 200  # still healthy: it serves pages until Railway stops it
    assert old.get("/").status_code == 200
