"""`upwatch run --workers N`: one command, N processes on one port, the shards split among them."""

from __future__ import annotations

import signal
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest

from tests.daemon_helpers import Daemon, Database, Target, daemon_config, free_port, wait_for
from upwatch.engine.phase import SHARDS
from upwatch.errors import UsageError
from upwatch.runtime.workers import available_cpus, worker_count

MONITORS = [f"m{i}" for i in range(8)]


@pytest.mark.parametrize(("text", "count"), [("1", 1), ("3", 3), (" 2 ", 2), ("64", 64)])
def test_a_worker_count_is_a_plain_whole_number(text: str, count: int) -> None:
    assert worker_count(text) == count


@pytest.mark.parametrize("text", ["0", "65", "-1", "two", "٣", "1.5"])
def test_anything_else_is_refused_with_what_is_allowed(text: str) -> None:
    with pytest.raises(UsageError, match="auto or a whole number from 1 to 64"):
        worker_count(text)


def test_auto_is_the_cpus_this_process_may_use_capped_by_the_cgroup_quota(
    tmp_path: Path,
) -> None:
    uncapped = available_cpus(tmp_path)  # no cpu.max here: the affinity alone
    assert worker_count("auto") == worker_count(None) == available_cpus()
    (tmp_path / "cpu.max").write_text("150000 100000\n")  # 1.5 CPUs: one worker
    assert available_cpus(tmp_path) == 1
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert available_cpus(tmp_path) == uncapped


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_two_workers_share_the_port_and_the_shards_and_stop_together(
    db_url: str,
    daemons: Callable[..., Daemon],
    target: Target,
    database: Callable[[str], Database],
) -> None:
    daemon = daemons(db_url, {"UPWATCH_WORKERS": "2"})
    monitors = "".join(
        f"- {{id: {m}, name: {m}, url: '{target.url('/' + m)}'}}\n" for m in MONITORS
    )
    daemon.write_config(daemon_config(monitors, hook_port=free_port()))
    daemon.start().wait_healthy()

    def split() -> bool:
        held = daemon.held_shards()
        halves = [e for e in daemon.logged("shards taken") if e.get("held") == SHARDS // 2]
        return held == set(range(SHARDS)) and len(halves) >= 1

    wait_for(split, "two workers holding 32 shards each")
    # Started together, they count on each other: neither takes all 64 to hand half back.
    assert not daemon.logged("shards released")
    assert len(daemon.logged("listening")) == 2  # both serve the one port
    wait_for(lambda: all(len(target.hits_of("/" + m)) >= 3 for m in MONITORS), "three rounds")
    assert daemon.stop(signal.SIGTERM, deadline=20) == 0

    db = database(db_url)
    for m in MONITORS:
        hits = target.hits_of("/" + m)
        gaps = [(b - a).total_seconds() for a, b in pairwise(hits)]
        assert min(gaps) > 0.5, (m, gaps)  # one worker per monitor: never probed twice a slot
        assert len(db.results(m)) == len(hits), m  # every answered probe stored at the stop
    assert [e["exit_code"] for e in daemon.logged("stopped")] == [0, 0]
    assert "Traceback" not in daemon.output()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_that_comes_while_the_workers_still_start_is_handled_not_fatal(
    db_url: str, daemons: Callable[..., Daemon], target: Target, sig: signal.Signals
) -> None:
    # The platform stops (or a user reloads) a service the moment it answers; a worker still
    # importing must not die of the signal and fail the whole service with it.
    daemon = daemons(db_url, {"UPWATCH_WORKERS": "2"})
    daemon.write_config(
        daemon_config(f"- {{id: w, name: W, url: '{target.url('/w')}'}}\n", hook_port=free_port())
    )
    daemon.start()
    wait_for(
        lambda: daemon.logged("workers started"), "the parent to start its workers", every=0.005
    )
    daemon.send(sig)
    if sig == signal.SIGHUP:
        daemon.wait_healthy()
        assert not daemon.logged("a worker exited: stopping the others")
        sig = signal.SIGTERM
    assert daemon.stop(sig, deadline=20) == 0
    assert "Traceback" not in daemon.output()
