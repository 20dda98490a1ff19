"""Incidents through the real process: opened and resolved, and resumed exactly after SIGKILL."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from typing import Any

import pytest

from tests.daemon_helpers import Daemon, Database, Target, daemon_config, free_port, wait_for
from upwatch.web.views import iso

pytestmark = pytest.mark.slow

OPENED, RESOLVED = "incident.opened", "incident.resolved"


def start_watching_web(
    daemons: Callable[..., Daemon], db_url: str, target: Target, db: Database
) -> Daemon:
    daemon = daemons(db_url)
    monitor = f"- {{id: web, name: Web, url: '{target.url('/web')}'}}\n"
    daemon.write_config(daemon_config(monitor, hook_port=free_port()))
    daemon.start().wait_healthy()
    wait_for(lambda: db.results("web"), "a first result")
    return daemon


def open_incident(daemon: Daemon) -> dict[str, Any]:
    incident: dict[str, Any] = wait_for(
        lambda: daemon.incident("web"), "/api/v1/incidents to show an incident"
    )
    return incident


def first_down_of_run(db: Database, monitor_id: str) -> Any:
    """The first down result after the last non-down one before it."""
    results = db.results(monitor_id)
    index = max(i for i, r in enumerate(results) if r.state == "down")
    while index > 0 and results[index - 1].state == "down":
        index -= 1
    return results[index]


def down_run_length(db: Database, monitor_id: str) -> int:
    """How many down results the database holds since the last non-down one."""
    run = 0
    for result in reversed(db.results(monitor_id)):
        if result.state != "down":
            break
        run += 1
    return run


def test_a_down_target_opens_an_incident_from_its_first_failed_probe_and_recovery_resolves_it(
    db_url: str,
    daemons: Callable[..., Daemon],
    target: Target,
    database: Callable[[str], Database],
) -> None:
    db = database(db_url)
    daemon = start_watching_web(daemons, db_url, target, db)
    target.set("/web", 503)
    incident = open_incident(daemon)

    first_down = first_down_of_run(db, "web")
    (stored,) = db.incidents("web")
    assert stored.id == incident["id"]
    assert stored.started_at == first_down.checked_at
    assert incident["started_at"] == iso(first_down.checked_at)
    assert incident["resolved_at"] is None
    assert stored.confirmed_at >= stored.started_at
    assert incident["cause"] == "Unexpected response"  # public words on the public API
    assert "503" in stored.cause  # the technical cause stays with the incident
    assert db.outbox_counts(stored.id) == {(OPENED, "hook"): 1}
    assert_status_command_shows(daemon, incident["id"])

    db.attempt_deliveries(stored.id)  # the hook was told (or tried): it must hear the end
    target.set("/web", 200)
    resolved = wait_for(
        lambda: (daemon.incident("web") or {}).get("resolved_at") and daemon.incident("web"),
        "the incident to be resolved",
    )
    assert resolved["id"] == incident["id"]
    assert resolved["started_at"] == incident["started_at"]
    (stored,) = db.incidents("web")
    first_up = next(
        r for r in db.results("web") if r.checked_at > first_down.checked_at and r.state == "up"
    )
    assert stored.resolved_at == first_up.checked_at
    assert db.outbox_counts(stored.id) == {(OPENED, "hook"): 1, (RESOLVED, "hook"): 1}
    assert daemon.api("/api/v1/status")["status"] == "operational"
    assert daemon.stop() == 0


def assert_status_command_shows(daemon: Daemon, incident_id: int) -> None:
    table = daemon.command("status", "-c", str(daemon.config))
    assert table.returncode == 0, table.stderr
    assert any(line.split()[:2] == ["web", "DOWN"] for line in table.stdout.splitlines())
    assert "1 open incident(s)" in table.stdout
    assert f"#{incident_id} web:" in table.stdout

    as_json = daemon.command("status", "--json", "-c", str(daemon.config))
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert [(m["id"], m["state"]) for m in data["monitors"]] == [("web", "down")]
    assert [(i["id"], i["monitor_id"]) for i in data["incidents"]] == [(incident_id, "web")]


def test_sigkill_mid_incident_then_restart_resumes_the_same_incident_without_reannouncing(
    db_url: str,
    daemons: Callable[..., Daemon],
    target: Target,
    database: Callable[[str], Database],
) -> None:
    db = database(db_url)
    daemon = start_watching_web(daemons, db_url, target, db)
    target.set("/web", 503)
    incident = open_incident(daemon)

    daemon.send(signal.SIGKILL)
    assert daemon.wait_exit() == -signal.SIGKILL
    (before,) = db.incidents("web")
    run_before = db.state("web").failure_run
    assert run_before == down_run_length(db, "web") >= 2
    outbox_before = db.outbox_counts(before.id)
    assert outbox_before == {(OPENED, "hook"): 1}
    db.attempt_deliveries(before.id)  # the hook was told (or tried): it must hear the end

    daemon.start().wait_healthy()
    assert without_duration(daemon.incident("web")) == without_duration(incident)
    # The failure run goes on counting from where it was, in step with the stored results.
    wait_for(lambda: down_run_length(db, "web") > run_before, "another failed probe")
    with daemon.frozen():
        state = db.state("web")
        assert state.failure_run == down_run_length(db, "web")
        assert state.open_incident_id == before.id
    (during,) = db.incidents("web")
    assert (during.id, during.started_at, during.confirmed_at) == (
        before.id,
        before.started_at,
        before.confirmed_at,
    )
    assert db.outbox_counts(before.id) == outbox_before  # no second "incident.opened"

    target.set("/web", 200)
    wait_for(lambda: db.incidents("web")[0].resolved_at, "the incident to be resolved")
    (after,) = db.incidents("web")  # the same incident resolved, no new one opened
    assert (after.id, after.started_at) == (before.id, before.started_at)
    # Everyone who was told (the hook) hears of the resolution exactly once.
    assert db.outbox_counts(before.id) == {(OPENED, "hook"): 1, (RESOLVED, "hook"): 1}
    assert daemon.stop() == 0


def without_duration(incident: dict[str, Any] | None) -> dict[str, Any]:
    assert incident is not None
    return {k: v for k, v in incident.items() if k != "duration_seconds"}
