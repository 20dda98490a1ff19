"""PostgreSQL going away under a running daemon (and not being there at start).

A TCP proxy sits between the daemon and PostgreSQL; cutting it closes the listener and resets every
connection, which is what the daemon sees when the database restarts or the network drops.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.daemon_helpers import (
    Daemon,
    Database,
    Target,
    TcpProxy,
    daemon_config,
    free_port,
    gaps,
    now,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
postgres_only = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


def through(proxy: TcpProxy, db_url: str) -> str:
    assert "@127.0.0.1:5432/" in db_url
    return db_url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")


def monitors(target: Target) -> str:
    return (
        f"- {{id: steady, name: Steady, url: '{target.url('/steady')}'}}\n"
        f"- {{id: flaky, name: Flaky, url: '{target.url('/flaky')}'}}\n"
    )


@postgres_only
def test_healthz_answers_503_while_the_database_is_unreachable_at_start_then_200(
    db_url: str, daemons: Callable[..., Daemon], target: Target, pg_proxy: TcpProxy
) -> None:
    daemon = daemons(through(pg_proxy, db_url))
    daemon.write_config(daemon_config(monitors(target), hook_port=free_port()))
    daemon.start()
    wait_for(lambda: daemon.logged("database unreachable at start"), "the start to be retried")
    assert daemon.healthz() == 503
    assert daemon.get("/readyz").status_code == 503
    assert daemon.running

    pg_proxy.open()
    daemon.wait_healthy()
    assert daemon.get("/readyz").status_code == 200
    assert daemon.stop() == 0


@postgres_only
def test_results_probed_while_the_database_is_gone_are_written_when_it_returns(
    db_url: str,
    daemons: Callable[..., Daemon],
    target: Target,
    pg_proxy: TcpProxy,
    database: Callable[[str], Database],
) -> None:
    db = database(db_url)  # the test reads PostgreSQL directly, not through the proxy
    pg_proxy.open()
    daemon = daemons(through(pg_proxy, db_url))
    daemon.write_config(daemon_config(monitors(target), hook_port=free_port()))
    daemon.start().wait_healthy()
    wait_for(lambda: len(db.results("steady")) >= 2, "results before the outage")

    cut_at = now()
    pg_proxy.cut()
    target.set("/flaky", 503)  # fails while nothing can be written
    wait_for(
        lambda: daemon.logged(
            "database unreachable: buffering results, no state changes until it is back"
        ),
        "the daemon to notice the outage",
    )
    # About 5 s without a database, measured in probes the target answered meanwhile.
    wait_for(
        lambda: len([t for t in target.hits_of("/steady") if t > cut_at]) >= 5,
        "five probes during the outage",
    )
    assert daemon.healthz() == 200  # probing goes on: alive, just not writing
    assert daemon.get("/readyz").status_code == 503
    assert db.incidents("flaky") == []  # no state change without the database
    back_at = now()
    pg_proxy.open()

    wait_for(lambda: daemon.logged("database is back"), "the daemon to write again")
    wait_for(lambda: db.incidents("flaky"), "the incident of flaky, judged from the buffer")
    assert daemon.get("/readyz").status_code == 200
    assert daemon.running
    assert daemon.stop() == 0

    # Nothing lost, nothing twice: one row per probe the target answered, at ~1/s throughout.
    steady = db.results("steady")
    assert len(steady) == len(target.hits_of("/steady"))
    times = [r.checked_at for r in steady]
    assert len(set(times)) == len(times)
    assert max(gaps(times)) < 3.0, gaps(times)
    during = [t for t in times if cut_at <= t <= back_at]
    assert len(during) >= (back_at - cut_at).total_seconds() - 2
    # The failures during the outage were judged in order, with their own times.
    (incident,) = db.incidents("flaky")
    first_down = next(r for r in db.results("flaky") if r.state == "down")
    assert cut_at <= first_down.checked_at <= back_at
    assert incident.started_at == first_down.checked_at


@postgres_only
def test_sigterm_exits_within_10_seconds_even_when_the_database_stops_answering(
    db_url: str,
    daemons: Callable[..., Daemon],
    target: Target,
    pg_proxy: TcpProxy,
    database: Callable[[str], Database],
) -> None:
    db = database(db_url)
    pg_proxy.open()
    daemon = daemons(through(pg_proxy, db_url))
    daemon.write_config(daemon_config(monitors(target), hook_port=free_port()))
    daemon.start().wait_healthy()
    wait_for(lambda: len(db.results("steady")) >= 2, "results before the stall")

    stalled_at = now()
    pg_proxy.stall()  # statements hang: no error, no answer
    wait_for(
        lambda: len([t for t in target.hits_of("/steady") if t > stalled_at]) >= 3,
        "probing to go on while writes hang",
    )
    assert daemon.healthz() == 200

    began = time.monotonic()
    code = daemon.stop(deadline=10)
    assert time.monotonic() - began < 10
    assert code == 0, daemon.tail()
