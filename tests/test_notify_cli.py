"""`upwatch notify-test CHANNEL`: a real test message through a real receiver, no database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from tests import notify_receivers as nr
from tests.config_helpers import position_of
from tests.notify_receivers import WEBHOOK_SECRET, HttpReceiver, SmtpServer, slack_like
from upwatch.cli import main

http_receivers = nr.http_receivers
smtp_servers = nr.smtp_servers


def write_config(tmp_path: Path, channels: dict[str, Any]) -> str:
    document = {
        "version": 1,
        "status_page": {"public_url": "https://status.acme.test"},
        "channels": channels,
        "monitors": [{"id": "api", "name": "Public API", "url": "https://api.acme.test/"}],
    }
    path = tmp_path / "monitors.yaml"
    path.write_text(json.dumps(document))
    return str(path)


def test_notify_test_delivers_a_test_message_and_exits_0(
    tmp_path: Path, http_receivers: Callable[..., HttpReceiver], capsys: pytest.CaptureFixture[str]
) -> None:
    receiver = http_receivers(slack_like("ok"))
    url = receiver.url("/services/T0/B0/secretpath")
    config = write_config(tmp_path, {"team-slack": {"type": "slack", "webhook_url": url}})

    assert main(["notify-test", "team-slack", "-c", config]) == 0

    out = capsys.readouterr().out
    assert out.startswith("ok: test message delivered through team-slack (slack: HTTP 200 in ")
    body = receiver.requests[0].json()
    assert body["blocks"][0]["text"]["text"] == (
        "[TEST] upwatch — test notification through team-slack"
    )


def test_notify_test_against_a_refusing_port_exits_1_without_the_url(
    tmp_path: Path, closed_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{closed_port}/services/T0/B0/secretpath"
    config = write_config(tmp_path, {"team-slack": {"type": "slack", "webhook_url": url}})

    assert main(["notify-test", "team-slack", "-c", config]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert "upwatch: team-slack (slack): not delivered" in captured.err
    assert "connection refused" in captured.err
    assert "secretpath" not in captured.err


def test_a_permanent_refusal_says_to_check_the_channel(
    tmp_path: Path, http_receivers: Callable[..., HttpReceiver], capsys: pytest.CaptureFixture[str]
) -> None:
    receiver = http_receivers(slack_like("no_service"))
    url = receiver.url("/services/T0/B0/revoked")
    config = write_config(tmp_path, {"team-slack": {"type": "slack", "webhook_url": url}})
    assert main(["notify-test", "team-slack", "-c", config]) == 1
    err = capsys.readouterr().err
    assert "HTTP 404: no_service" in err
    assert "refused it for good" in err


def test_an_unknown_channel_exits_2_and_lists_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    channels = {
        "team-slack": {"type": "slack", "webhook_url": "https://hooks.slack.test/x"},
        "pager": {"type": "webhook", "url": "https://hooks.acme.test/x"},
    }
    config = write_config(tmp_path, channels)
    assert main(["notify-test", "slack", "-c", config]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"upwatch: no channel 'slack' in {config} (channels: pager, team-slack)")


def test_notify_test_signs_webhooks(
    tmp_path: Path, http_receivers: Callable[..., HttpReceiver]
) -> None:
    receiver = http_receivers()
    channel = {"type": "webhook", "url": receiver.url("/hook"), "secret": WEBHOOK_SECRET}
    config = write_config(tmp_path, {"pager": channel})
    assert main(["notify-test", "pager", "-c", config]) == 0
    request = receiver.requests[0]
    body = Webhook(WEBHOOK_SECRET).verify(request.body, request.headers)
    assert body["type"] == "test"
    assert body["data"]["incident"] is None


def test_notify_test_sends_email_over_smtp(
    tmp_path: Path,
    smtp_servers: Callable[[str], SmtpServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = smtp_servers("plain")
    channel = {
        "type": "email",
        "smtp_url": server.url(),
        "from": "upwatch@acme.test",
        "to": ["oncall@acme.test"],
    }
    config = write_config(tmp_path, {"oncall-email": channel})
    assert main(["notify-test", "oncall-email", "-c", config]) == 0
    assert "(email: SMTP " in capsys.readouterr().out
    [mail] = server.mailbox.messages
    assert mail["Subject"] == "[TEST] upwatch — test notification through oncall-email"


# ---- only the channel's own ${VAR}s are needed, others may be unset ---------------------------


def write_config_with_variables(tmp_path: Path, slack_url: str) -> str:
    document = {
        "version": 1,
        "status_page": {"public_url": "${PUBLIC_URL}"},
        "channels": {
            "team-slack": {"type": "slack", "webhook_url": slack_url},
            "pager": {"type": "webhook", "url": "${PAGER_URL}", "secret": "${WEBHOOK_SECRET}"},
        },
        "escalations": {"default": [{"after": "0s", "notify": ["team-slack", "pager"]}]},
        "monitors": [{"id": "api", "name": "Public API", "url": "${API_URL}"}],
    }
    path = tmp_path / "monitors.yaml"
    path.write_text(json.dumps(document, indent=2))
    return str(path)


@pytest.fixture
def unset_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PUBLIC_URL", "PAGER_URL", "WEBHOOK_SECRET", "API_URL", "SLACK_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("unset_variables")
def test_notify_test_needs_only_the_variables_of_its_channel(
    tmp_path: Path, http_receivers: Callable[..., HttpReceiver], capsys: pytest.CaptureFixture[str]
) -> None:
    receiver = http_receivers(slack_like("ok"))
    config = write_config_with_variables(tmp_path, receiver.url("/services/T0/B0/x"))

    assert main(["notify-test", "team-slack", "-c", config]) == 0

    assert capsys.readouterr().out.startswith("ok: test message delivered through team-slack")
    # The status page address waits for PUBLIC_URL: no made-up link goes out instead.
    assert "unset" not in receiver.requests[0].body.decode()
    # `check` (like `run`) still wants every variable the file names.
    assert main(["check", "-c", config]) == 2
    err = capsys.readouterr().err
    assert all(name in err for name in ("PUBLIC_URL", "PAGER_URL", "WEBHOOK_SECRET", "API_URL"))


@pytest.mark.usefixtures("unset_variables")
def test_a_variable_of_the_channel_itself_is_still_required_and_named_where_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config_with_variables(tmp_path, "${SLACK_WEBHOOK_URL}")

    assert main(["notify-test", "team-slack", "-c", config]) == 2

    captured = capsys.readouterr()
    line, col = position_of(Path(config).read_text(), '"${SLACK_WEBHOOK_URL}"')
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"{config}:{line}:{col}: channels.team-slack.webhook_url: "
        "environment variable SLACK_WEBHOOK_URL is not set (and has no :-default)",
        f"{config}: 1 problem found",
    ]
