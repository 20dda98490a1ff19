"""`upwatch run` as a process: health while starting, signals, config reloads, config errors."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.config_helpers import LINE_RE
from tests.daemon_helpers import Daemon, Database, Target, daemon_config, free_port, wait_for
from tests.probe_servers import HttpServer, Request, respond
from upwatch.web.views import iso

pytestmark = pytest.mark.slow


def web_monitors(target: Target, *ids: str) -> str:
    return "".join(f"- {{id: {i}, name: {i.title()}, url: '{target.url('/' + i)}'}}\n" for i in ids)


def started(daemons: Callable[..., Daemon], db_url: str, target: Target, *ids: str) -> Daemon:
    daemon = daemons(db_url)
    daemon.write_config(daemon_config(web_monitors(target, *ids), hook_port=free_port()))
    daemon.start().wait_healthy()
    return daemon


def api_ids(daemon: Daemon) -> set[str]:
    groups = daemon.api("/api/v1/status")["groups"]
    return {m["id"] for g in groups for m in g["monitors"]}


def test_healthz_answers_from_the_moment_it_listens_and_turns_200_when_probing(
    db_url: str, daemons: Callable[..., Daemon], target: Target
) -> None:
    daemon = daemons(db_url)
    daemon.write_config(daemon_config(web_monitors(target, "web"), hook_port=free_port()))
    daemon.start()
    answers: list[int | None] = []

    def ready() -> bool:
        status = daemon.healthz()
        if status is not None or answers:
            answers.append(status)
        assert daemon.running, daemon.tail()
        return status == 200

    wait_for(ready, "/healthz to answer 200", every=0.02)
    # Once it listens it answers (503 while starting), never a refused connection.
    assert set(answers) <= {200, 503}, answers
    assert daemon.get("/readyz").status_code == 200
    events = [e["event"] for e in daemon.events()]
    assert events.index("listening") < events.index("monitoring")
    body = daemon.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["migrated"] is True
    # Interval 1 s at a phase fixed by the id: the first probe comes right away.
    wait_for(lambda: target.hits_of("/web"), "the first probe", deadline=10)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PostgreSQL: the outage tests
def test_sigterm_exits_0_within_10_seconds_with_every_probe_written(
    db_url: str,
    daemons: Callable[..., Daemon],
    target: Target,
    database: Callable[[str], Database],
) -> None:
    daemon = started(daemons, db_url, target, "web")
    db = database(db_url)
    wait_for(lambda: len(db.results("web")) >= 2, "results in the database")
    began = time.monotonic()
    assert daemon.stop(signal.SIGTERM, deadline=10) == 0
    assert time.monotonic() - began < 10
    # Every request the target answered became a row, the last ones included: nothing was
    # dropped in the buffer by the shutdown.
    hits = target.hits_of("/web")
    results = db.results("web")
    assert len(results) == len(hits)
    assert abs((results[-1].checked_at - hits[-1]).total_seconds()) < 2.0
    assert daemon.logged("stopped")[-1]["exit_code"] == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sigint_stops_the_daemon_like_sigterm(
    db_url: str, daemons: Callable[..., Daemon], target: Target
) -> None:
    daemon = started(daemons, db_url, target, "web")
    assert daemon.stop(signal.SIGINT, deadline=10) == 0
    assert "Traceback" not in daemon.output()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the store suite has both
def test_a_monitor_removed_from_the_config_is_archived_and_returns_with_its_history(
    db_url: str,
    daemons: Callable[..., Daemon],
    target: Target,
    database: Callable[[str], Database],
) -> None:
    daemon = started(daemons, db_url, target, "web", "api")
    db = database(db_url)
    wait_for(lambda: len(db.results("api")) >= 2, "results of api")

    daemon.write_config(daemon_config(web_monitors(target, "web"), hook_port=free_port()))
    daemon.send(signal.SIGHUP)
    wait_for(lambda: api_ids(daemon) == {"web"}, "api to leave /api/v1/status")
    assert daemon.get("/api/v1/monitors/api").status_code == 404
    assert daemon.get("/api/v1/monitors/api/results").status_code == 404
    assert db.monitor("api").archived_at is not None
    kept = db.results("api")
    assert kept, "history is kept while archived"
    # No longer probed: while web is probed three more times, api is not (one probe may have
    # been in flight when the reload landed).
    probes, web_probes = len(target.hits_of("/api")), len(target.hits_of("/web"))
    wait_for(lambda: len(target.hits_of("/web")) >= web_probes + 3, "three more probes of web")
    assert len(target.hits_of("/api")) <= probes + 1

    # Back in the config (here through a restart): restored, with its history.
    assert daemon.stop() == 0
    daemon.write_config(daemon_config(web_monitors(target, "web", "api"), hook_port=free_port()))
    daemon.start().wait_healthy()
    wait_for(lambda: api_ids(daemon) == {"web", "api"}, "api back in /api/v1/status")
    assert db.monitor("api").archived_at is None
    shown = daemon.api("/api/v1/monitors/api/results?limit=1000")["results"]
    assert {r["checked_at"] for r in shown} >= {iso(r.checked_at) for r in kept}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_invalid_config_on_sighup_is_logged_and_the_running_one_kept(
    db_url: str, daemons: Callable[..., Daemon], target: Target
) -> None:
    daemon = started(daemons, db_url, target, "web")
    daemon.write_config(
        daemon_config(web_monitors(target, "web"), hook_port=free_port())
        + "  - {id: broken, name: Broken, url: not-a-url, intervall: 5s}\n"
    )
    daemon.send(signal.SIGHUP)
    rejected = wait_for(
        lambda: daemon.logged("config reload rejected; keeping the running config"),
        "the reload to be rejected in the log",
    )
    problems = [e["problem"] for e in rejected]
    assert any(LINE_RE.match(p) and "intervall" in p for p in problems), problems
    # Still running the old config: healthy, still probing web, broken never shown.
    probes = len(target.hits_of("/web"))
    wait_for(lambda: len(target.hits_of("/web")) >= probes + 2, "web to be probed still")
    assert daemon.healthz() == 200
    assert api_ids(daemon) == {"web"}
    assert daemon.stop() == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_run_with_an_invalid_config_exits_2_before_listening_with_located_errors(
    db_url: str, daemons: Callable[..., Daemon], target: Target
) -> None:
    daemon = daemons(db_url)
    text = daemon_config(
        web_monitors(target, "web") + "- {id: web, name: Twin, url: 'ftp://x', timeout: 0s}\n",
        hook_port=free_port(),
    )
    daemon.write_config(text.replace("escalation: default", "escalation: nowhere"))
    assert daemon.start().wait_exit() == 2
    stderr = (daemon.directory / "stderr.1.log").read_text()
    stdout = (daemon.directory / "stdout.1.log").read_text()
    assert "Traceback" not in stderr + stdout
    assert "listening" not in stdout  # it never opened the port
    lines = stderr.splitlines()
    located = lines[:-1]
    assert len(located) >= 3, stderr  # every problem, not just the first
    for line in located:
        match = LINE_RE.match(line)
        assert match, line
        assert match["file"] == str(daemon.config)
    assert lines[-1].endswith("problems found")
    assert not Path(db_url.removeprefix("sqlite:///")).exists()  # nor touched the database


def test_migrate_on_a_fresh_database_prints_ok_and_can_run_again(
    db_url: str, daemons: Callable[..., Daemon]
) -> None:
    daemon = daemons(db_url)
    before = daemon.command("status", "-c", str(daemon.config))
    assert before.returncode == 1
    # It names the database it looked at (a missing SQLite file is not created by asking).
    assert "run `upwatch migrate`" in before.stderr
    assert ("no database at" in before.stderr) == db_url.startswith("sqlite")
    for _ in range(2):
        done = daemon.command("migrate")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("ok: database at revision ")
        assert done.stderr == ""
    after = daemon.command("status", "-c", str(daemon.config))
    assert after.returncode == 0, after.stderr
    assert "no monitors yet" in after.stdout


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_migrate_and_status_on_a_missing_database_say_why_in_one_line(
    db_url: str, daemons: Callable[..., Daemon]
) -> None:
    missing = db_url.rsplit("/", 1)[0] + "/no_such_database"
    daemon = daemons(missing.replace("postgres@", "postgres:pw-Hidden42@"))
    daemon.write_config(
        daemon_config("- {id: web, name: Web, url: 'http://127.0.0.1:9/'}\n", hook_port=free_port())
    )
    for args in (("migrate",), ("status", "-c", str(daemon.config))):
        done = daemon.command(*args)
        assert done.returncode == 1
        assert done.stdout == ""
        (line,) = done.stderr.splitlines()
        assert 'database "no_such_database" does not exist' in line
        assert "pw-Hidden42" not in line


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sigterm_with_a_hundred_probes_in_flight_stores_every_one_that_was_answered(
    db_url: str,
    daemons: Callable[..., Daemon],
    http_server: HttpServer,
    database: Callable[[str], Database],
) -> None:
    # A slow target keeps ~100 probes in flight at any moment: at SIGTERM they finish within
    # the grace, and every answer the target sent becomes a row.
    answered: list[str] = []
    slow = respond(200, b"ok", delay=0.6)

    async def counted(request: Request, reader: Any, writer: asyncio.StreamWriter) -> None:
        await slow(request, reader, writer)
        answered.append(request.path)

    ids = [f"busy{i}" for i in range(120)]
    for monitor_id in ids:
        http_server.routes[f"/inflight/{monitor_id}"] = counted
    monitors = "".join(
        f"- {{id: {m}, name: {m}, url: '{http_server.url('/inflight/' + m)}', timeout: 1s}}\n"
        for m in ids
    )
    daemon = daemons(db_url)
    daemon.write_config(daemon_config(monitors, hook_port=free_port()))
    daemon.start().wait_healthy()
    db = database(db_url)
    wait_for(lambda: len(answered) >= 3 * len(ids), "three rounds answered")

    assert daemon.stop(signal.SIGTERM, deadline=20) == 0

    stored = sum(len(db.results(m)) for m in ids)
    assert stored == len(answered)
    assert not daemon.logged("shutdown: results left unwritten")
    assert "Traceback" not in daemon.output()
