"""Secrets never leave the process: not in logs, not in command output, not in API responses.

Every secret below is distinctive, so a plain substring search over everything the daemon and
its commands printed (and everything its API answered) finds any leak.
"""

from __future__ import annotations

import base64
import signal
from collections.abc import Callable

import pytest

from tests.daemon_helpers import Daemon, Target, TcpProxy, daemon_config, free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SLACK_URL = "https://hooks.slack.test/services/T0SECRET/B0SECRET/slackTok3n9QzX"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"distinctive-webhook-secret-4711").decode()
HB_TOKEN = "hbTok3n-Zq81xPp"
MON_PASSWORD = "monPassw0rd-Rt55"
DB_PASSWORD = "dbPassw0rd-Kx94Wm"
SECRETS = (SLACK_URL, "slackTok3n9QzX", WEBHOOK_SECRET, HB_TOKEN, MON_PASSWORD, DB_PASSWORD)

CHANNELS = f"""\
channels:
  slack: {{type: slack, webhook_url: "${{SLACK_URL}}"}}
  hook: {{type: webhook, url: "http://127.0.0.1:{free_port()}/hook", secret: "${{WEBHOOK_SECRET}}"}}
escalations:
  default:
    - {{after: 0s, notify: [slack, hook]}}
"""


def config(target: Target, monitors_extra: str = "") -> str:
    base = daemon_config(
        f"- {{id: web, name: Web, url: '{target.url('/web')}',"
        " basic_auth: {username: probe, password: '${MON_PASSWORD}'}}\n"
        "- {id: backup, name: Backup, type: heartbeat, token: '${HB_TOKEN}', interval: 1h}\n"
        + monitors_extra,
        hook_port=free_port(),
    )
    head, _, rest = base.partition("channels:\n")
    _, _, monitors = rest.partition("monitors:\n")
    return head + CHANNELS + "monitors:\n" + monitors


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_secrets_from_the_environment_never_appear_in_logs_output_or_api(
    db_url: str, daemons: Callable[..., Daemon], target: Target, pg_proxy: TcpProxy
) -> None:
    where = f"postgres:{DB_PASSWORD}@127.0.0.1:{pg_proxy.port}/"
    url = db_url.replace("postgres@127.0.0.1:5432/", where)
    assert DB_PASSWORD in url
    env = {
        "SLACK_URL": SLACK_URL,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "HB_TOKEN": HB_TOKEN,
        "MON_PASSWORD": MON_PASSWORD,
    }
    daemon = daemons(url, env)
    daemon.write_config(config(target))
    # The database is not there at first: its URL goes into the retry log lines.
    daemon.start()
    wait_for(lambda: daemon.logged("database unreachable at start"), "a failed start attempt")
    pg_proxy.open()
    daemon.wait_healthy()

    assert daemon.get(f"/ping/backup/{HB_TOKEN}").status_code == 200
    assert daemon.get(f"/ping/backup/{HB_TOKEN}/fail").status_code == 200
    target.set("/web", 503)
    wait_for(lambda: daemon.incident("web"), "an incident, with notifications enqueued")

    # A reload that fails puts a secret where it does not belong: the error must not show it.
    daemon.write_config(
        config(target, "- {id: bad, name: Bad, url: '${SLACK_URL}', interval: '${SLACK_URL}'}\n")
    )
    daemon.send(signal.SIGHUP)
    rejected = wait_for(
        lambda: daemon.logged("config reload rejected; keeping the running config"),
        "the bad config to be rejected",
    )
    assert any("interval" in e["problem"] for e in rejected), rejected
    daemon.write_config(config(target))
    daemon.send(signal.SIGHUP)
    wait_for(lambda: daemon.logged("config reloaded"), "the good config to be reloaded")

    answers = [
        daemon.get(path).text
        for path in (
            "/api/v1/status",
            "/api/v1/incidents",
            "/api/v1/monitors/web",
            "/api/v1/monitors/web/results",
            "/api/v1/monitors/backup/results",
            "/healthz",
            "/readyz",
            "/",  # the status page and metrics, once served
            "/monitors/web",
            "/metrics",
        )
    ]
    commands = [
        daemon.command(*args)
        for args in (
            ("status", "-c", str(daemon.config)),
            ("status", "--json", "-c", str(daemon.config)),
            ("check", "-c", str(daemon.config)),
        )
    ]
    assert daemon.stop() == 0
    assert [c.returncode for c in commands] == [0, 0, 0], [c.stderr for c in commands]
    assert leaks("".join(answers)) == []
    assert leaks("".join(c.stdout + c.stderr for c in commands)) == []
    assert daemon.logged("database unreachable at start")[0]["url"].count("***") == 1
    assert leaks(daemon.output()) == []
