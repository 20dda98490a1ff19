"""End to end: `upwatch run` as a real process notices a failing endpoint, sends the signed
webhook, and takes an acknowledgement through its own HTTP server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import httpx
import pytest
from standardwebhooks import Webhook

from tests import notify_receivers as nr
from tests.notify_receivers import WEBHOOK_SECRET, HttpReceiver, free_port

http_receivers = nr.http_receivers
DEADLINE = 25.0


class Started(NamedTuple):
    process: subprocess.Popen[bytes]
    port: int
    log: Path


def wait_for(predicate: Callable[[], object], what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Callable[[dict[str, object]], Started]]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(document: dict[str, object]) -> Started:
        config, log = tmp_path / "monitors.yaml", tmp_path / "upwatch.log"
        config.write_text(json.dumps(document))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("UPWATCH_", "RAILWAY_"))}
        env.update(
            DATABASE_URL=f"sqlite:///{tmp_path / 'upwatch.db'}",
            PORT=str(port),
            HOST="127.0.0.1",
            UPWATCH_SECRET_KEY="end-to-end-secret",
            LOG_FORMAT="json",
            UPWATCH_WORKERS="1",  # one process: this test reads its log
            LOG_LEVEL="debug",
        )
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "upwatch.cli", "run", "-c", str(config)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        processes.append(process)
        return Started(process, port, log)

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.slow
def test_the_daemon_delivers_alerts_and_takes_acknowledgements(
    daemon: Callable[[dict[str, object]], Started],
    http_receivers: Callable[..., HttpReceiver],
    closed_port: int,
) -> None:
    receiver = http_receivers()
    process, port, log = daemon(
        {
            "version": 1,
            "status_page": {"public_url": "https://status.acme.test"},
            "channels": {
                "pager": {"type": "webhook", "url": receiver.url("/hook"), "secret": WEBHOOK_SECRET}
            },
            "escalations": {"critical": [{"after": "0s", "notify": ["pager"]}]},
            "monitors": [
                {
                    "id": "api",
                    "name": "Public API",
                    "url": f"http://127.0.0.1:{closed_port}/health",
                    "interval": "1s",
                    "timeout": "1s",
                    "retry_interval": "1s",
                    "failure_threshold": 1,
                    "escalation": "critical",
                }
            ],
        }
    )
    events = lambda: [r.headers["x-upwatch-event"] for r in receiver.requests]  # noqa: E731
    wait_for(lambda: "incident.opened" in events(), "the down alert")
    opened = receiver.requests[events().index("incident.opened")]
    body = Webhook(WEBHOOK_SECRET).verify(opened.body, opened.headers)
    assert body["data"]["monitor"] == {
        "id": "api",
        "name": "Public API",
        "group": None,
        "severity": "critical",
    }
    assert body["data"]["incident"]["cause"] == "connection refused"

    ack_path = urlsplit(body["data"]["ack_url"]).path
    page = httpx.get(f"http://127.0.0.1:{port}{ack_path}", timeout=10)
    assert page.status_code == 200
    assert "Public API is DOWN" in page.text
    assert httpx.post(f"http://127.0.0.1:{port}{ack_path}", timeout=10).status_code == 200
    wait_for(lambda: "incident.acknowledged" in events(), "the acknowledgement")

    process.send_signal(signal.SIGTERM)  # the worker stops before the database is closed
    assert process.wait(timeout=15) == 0
    process_log = log.read_text()
    assert '"notification delivered"' in process_log
    assert "end-to-end-secret" not in process_log
    assert WEBHOOK_SECRET not in process_log


@pytest.mark.slow
def test_the_daemon_shows_an_slo_and_alerts_on_its_burn_once_across_a_restart(
    daemon: Callable[[dict[str, object]], Started],
    http_receivers: Callable[..., HttpReceiver],
    closed_port: int,
) -> None:
    # 99.99 % over a day: 8.64 s of budget. A target down from the start burns it at 10,000×:
    # the fast burn alert (1 h and 5 m above 14.4) after 5.2 s of outage, exhaustion after 8.6 s,
    # the slow one (6 h and 30 m above 6) after 13 s.
    receiver = http_receivers()
    document: dict[str, object] = {
        "version": 1,
        "channels": {"pager": {"type": "webhook", "url": receiver.url("/hook")}},
        "escalations": {"slo-burn": [{"after": "0s", "notify": ["pager"]}]},
        "slo_alerts": {"policy": "slo-burn"},
        "monitors": [
            {
                "id": "api",
                "name": "Public API",
                "url": f"http://127.0.0.1:{closed_port}/health",
                "interval": "1s",
                "timeout": "1s",
                "retry_interval": "1s",
                "failure_threshold": 1,
                "severity": "warning",
                "escalation": "none",
                "slo": {"target": "99.99%", "window": "1d"},
            }
        ],
    }
    events = lambda: [r.headers["x-upwatch-event"] for r in receiver.requests]  # noqa: E731
    process, port, log = daemon(document)
    wait_for(lambda: "slo.burn_fast" in events(), "the fast burn alert")
    fast = receiver.requests[events().index("slo.burn_fast")].json()
    assert fast["data"]["monitor"]["severity"] == "warning"
    assert fast["data"]["slo"]["burn"]["1h"] > 14.4

    process.send_signal(signal.SIGTERM)  # a redeploy in the middle of the alert
    assert process.wait(timeout=15) == 0
    process, port, log = daemon(document)
    wait_for(lambda: {"slo.exhausted", "slo.burn_slow"} <= set(events()), "the other two alerts")
    checked = lambda: log.read_text().count('"slo alerts checked"') >= 2  # noqa: E731
    wait_for(checked, "two SLO checks by the restarted daemon")
    assert sorted(events()) == ["slo.burn_fast", "slo.burn_slow", "slo.exhausted"]

    shown = httpx.get(f"http://127.0.0.1:{port}/api/v1/monitors/api", timeout=10).json()
    assert shown["slo"]["target"] == 99.99
    assert shown["slo"]["budget_left_percent"] < 0
    page = httpx.get(f"http://127.0.0.1:{port}/monitors/api", timeout=10).text
    assert "overspent" in page
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
