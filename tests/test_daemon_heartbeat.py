"""Heartbeat check-ins at `/ping/{id}/{token}` against the real process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.daemon_helpers import Daemon, Target, daemon_config, free_port, wait_for

pytestmark = pytest.mark.slow

TOKEN = "hb-7f3e9c21d4b8a6"  # a literal in the config: the access log must redact it anyway


def results(daemon: Daemon) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = daemon.api("/api/v1/monitors/backup/results")["results"]
    return found


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_heartbeat_pings_record_up_and_reported_failures_and_never_log_the_token(
    db_url: str, daemons: Callable[..., Daemon]
) -> None:
    daemon = daemons(db_url)
    monitor = f"- {{id: backup, name: Backup, type: heartbeat, token: {TOKEN}, interval: 1h}}\n"
    daemon.write_config(daemon_config(monitor, hook_port=free_port()))
    daemon.start().wait_healthy()

    ok = daemon.get(f"/ping/backup/{TOKEN}")
    assert ok.status_code == 200
    wait_for(lambda: [r for r in results(daemon) if r["state"] == "up"], "an up result")
    assert daemon.http.post(f"/ping/backup/{TOKEN}").status_code == 200

    assert daemon.get("/ping/backup/not-the-token").status_code == 404
    assert daemon.get(f"/ping/nope/{TOKEN}").status_code == 404
    assert daemon.get("/ping/backup/not-the-token/fail").status_code == 404

    assert daemon.get(f"/ping/backup/{TOKEN}/fail").status_code == 200
    (failed,) = wait_for(
        lambda: [r for r in results(daemon) if r["state"] == "down"], "a down result"
    )
    assert failed["cause"] == "Reported failure"  # the public word; the database keeps its own
    assert daemon.stop() == 0

    # Every request above is in the access log, with the token replaced.
    paths = [e["path"] for e in daemon.logged("request")]
    assert "/ping/backup/[token]" in paths
    assert "/ping/backup/[token]/fail" in paths
    assert TOKEN not in daemon.output()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_dead_mans_switch_is_pinged_once_healthy_and_its_url_never_logged(
    db_url: str, daemons: Callable[..., Daemon], target: Target
) -> None:
    switch = "/ping/5f0c9e61-switch-token"
    daemon = daemons(db_url, {"UPWATCH_HEARTBEAT_URL": target.url(switch)})
    monitor = f"- {{id: web, name: Web, url: '{target.url('/web')}'}}\n"
    daemon.write_config(daemon_config(monitor, hook_port=free_port()))
    daemon.start().wait_healthy()
    wait_for(lambda: target.hits_of(switch), "the heartbeat URL to be pinged", deadline=10)
    target.set(switch, 500)  # a rejected ping is logged, without the URL
    assert daemon.stop() == 0
    assert "5f0c9e61-switch-token" not in daemon.output()
