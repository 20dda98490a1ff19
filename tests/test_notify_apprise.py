"""The apprise channel through the real Apprise: `json://` URLs aimed at a receiver on loopback
(Apprise POSTs `{title, message, type, ...}` with the URL's user and password as basic auth)."""

from __future__ import annotations

import asyncio
import base64
import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import notify_receivers as nr
from tests.config_helpers import ConfigFiles, position_of
from tests.notify_receivers import T0, HttpReceiver, Received, Reply, always, notify_config
from tests.test_notify_channels import incident_message
from tests.test_notify_cli import write_config
from upwatch.cli import main
from upwatch.config.loader import LoadedConfig
from upwatch.notify.channels.apprise import AppriseChannel
from upwatch.notify.channels.base import SendContext
from upwatch.notify.dispatch import channel_secrets, deliver
from upwatch.notify.outcome import Outcome
from upwatch.notify.render import Renderer

http_receivers = nr.http_receivers

MakeReceiver = Callable[..., HttpReceiver]
USER, PASSWORD = "upwatch", "apprise-pa55word"
PATH_TOKEN = "tok-7f3a9c2e41b8"


def apprise_url(port: int, path: str = PATH_TOKEN) -> str:
    return f"json://{USER}:{PASSWORD}@127.0.0.1:{port}/hooks/{path}"


def apprise_config(*urls: str) -> LoadedConfig:
    return notify_config({"long-tail": {"type": "apprise", "urls": list(urls)}})


@pytest.fixture
async def send() -> AsyncIterator[Callable[..., Any]]:
    async with httpx.AsyncClient() as http:

        async def run(loaded: LoadedConfig) -> Outcome:
            ctx = SendContext(http=http, renderer=Renderer(), clock=lambda: T0)
            return await deliver(incident_message(channel="long-tail"), loaded, ctx, 10.0)

        yield run


def secrets_in(text: str) -> list[str]:
    return [s for s in (PASSWORD, PATH_TOKEN) if s in text]


async def test_each_url_gets_the_subject_as_title_and_the_text_as_body(
    http_receivers: MakeReceiver, send: Any
) -> None:
    first, second = http_receivers(), http_receivers()
    outcome = await send(apprise_config(apprise_url(first.port), apprise_url(second.port, "b")))

    assert outcome.ok
    assert outcome.detail == "Apprise notified 2 URLs"
    for receiver in (first, second):
        (request,) = receiver.requests
        assert request.method == "POST"
        body = request.json()
        assert body["title"] == "[DOWN] Public API — expected status 200, got 503"
        assert body["message"].startswith("Public API is DOWN")
        assert body["type"] == "failure"
        credentials = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        assert request.headers["authorization"] == f"Basic {credentials}"
    assert first.requests[0].path == f"/hooks/{PATH_TOKEN}"


@pytest.mark.parametrize("status", [500, 400])
async def test_a_refusing_receiver_is_retried_never_given_up(
    http_receivers: MakeReceiver, send: Any, status: int
) -> None:
    # Apprise says only "failed", so even a 400 may be passing: retried within the 24 h window.
    ok, refusing = http_receivers(), http_receivers(always(Reply(status, b"no")))
    outcome = await send(apprise_config(apprise_url(ok.port), apprise_url(refusing.port)))

    assert not outcome.ok
    assert not outcome.permanent
    assert outcome.error.startswith("Apprise could not notify urls[1] (json://) of 2")
    assert secrets_in(outcome.error) == []


async def test_a_closed_port_is_retried_and_neither_the_error_nor_any_log_holds_the_url(
    closed_port: int,
    send: Any,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    outcome = await send(apprise_config(apprise_url(closed_port)))

    assert not outcome.ok
    assert not outcome.permanent
    captured = capfd.readouterr()
    seen = "\n".join([outcome.error or "", caplog.text, captured.out, captured.err])
    assert secrets_in(seen) == []
    assert [r for r in caplog.records if r.name.startswith("apprise")] == []
    assert "apprise" not in captured.err.lower()  # not even through logging's last resort


async def test_sending_leaves_the_event_loop_free_while_apprise_waits(
    http_receivers: MakeReceiver, send: Any
) -> None:
    answer = threading.Event()

    def held(_request: Received) -> Reply:
        answer.wait(10)  # the receiver's own thread waits; the test's loop must not
        return Reply()

    receiver = http_receivers(held)
    sending = asyncio.create_task(send(apprise_config(apprise_url(receiver.port))))
    while not receiver.requests:  # this loop keeps turning while Apprise is mid-request
        await asyncio.sleep(0.01)
    assert not sending.done()
    answer.set()
    assert (await sending).ok


def test_secret_values_hold_every_url_and_each_of_its_pieces() -> None:
    urls = [
        "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-100987654321",
        "discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js",
        "json://user:p%40ssw0rd-x@hooks.example.test/path?token=qs-token-value",
    ]
    channel = AppriseChannel(type="apprise", urls=urls)
    found = channel.secret_values()

    for piece in [
        *urls,
        "123456789",
        "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        "-100987654321",
        "4174216298",
        "JHMHI8qBe7bk2ZwO5U711o3dV_js",
        "p@ssw0rd-x",
        "qs-token-value",
    ]:
        assert piece in found, piece


def test_urls_written_literally_are_secrets_of_the_whole_config(tmp_path: Path) -> None:
    url = "json://user:literal-pass@hooks.example.test/literal-path-token"
    loaded = ConfigFiles(tmp_path).load(
        "version: 1\n"
        f"channels:\n  long-tail: {{type: apprise, urls: ['{url}']}}\n"
        "monitors:\n"
        '  - {id: web, name: Web, url: "https://e.test/"}\n'
    )
    assert "literal" not in loaded.redact(f"posting to {url} failed")
    assert {url, "literal-pass", "literal-path-token"} <= channel_secrets("long-tail", loaded)


def test_a_url_apprise_does_not_know_is_reported_at_its_place_without_the_url(
    tmp_path: Path,
) -> None:
    text = (
        "version: 1\n"
        "channels:\n"
        "  long-tail:\n"
        "    type: apprise\n"
        '    urls: ["json://127.0.0.1/ok", "nosuchservice://secret-token-1234/x"]\n'
        "monitors:\n"
        '  - {id: web, name: Web, url: "https://e.test/"}\n'
    )
    (problem,) = ConfigFiles(tmp_path).problems(text)
    assert problem.path == "channels.long-tail.urls.1"
    assert (problem.line, problem.col) == position_of(text, '"nosuchservice')
    assert "Apprise does not recognise this URL (nosuchservice://)" in problem.message
    assert "secret-token-1234" not in problem.message


def test_check_without_apprise_installed_points_at_the_channels_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)  # import apprise now fails: not installed
    text = (
        "version: 1\n"
        "channels:\n"
        "  long-tail: {type: apprise, urls: ['json://127.0.0.1/x']}\n"
        "monitors:\n"
        '  - {id: web, name: Web, url: "https://e.test/"}\n'
    )
    path = tmp_path / "monitors.yaml"
    path.write_text(text)

    assert main(["check", "-c", str(path)]) != 0

    line, col = position_of(text, "apprise,")
    err = capsys.readouterr().err
    assert (
        f"{path}:{line}:{col}: channels.long-tail.type: the apprise channel needs the optional "
        "apprise package: pip install 'upwatch[apprise]'"
    ) in err


def test_notify_test_delivers_through_apprise(
    tmp_path: Path, http_receivers: MakeReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver = http_receivers()
    config = write_config(
        tmp_path, {"long-tail": {"type": "apprise", "urls": [apprise_url(receiver.port)]}}
    )

    assert main(["notify-test", "long-tail", "-c", config]) == 0

    out = capsys.readouterr().out
    assert out.startswith("ok: test message delivered through long-tail (apprise: Apprise notified")
    body = receiver.requests[0].json()
    assert body["title"] == "[TEST] upwatch — test notification through long-tail"
    assert body["type"] == "info"


def test_notify_test_through_a_failing_url_exits_1_and_says_it_would_retry(
    tmp_path: Path, closed_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path, {"long-tail": {"type": "apprise", "urls": [apprise_url(closed_port)]}}
    )

    assert main(["notify-test", "long-tail", "-c", config]) == 1

    err = capsys.readouterr().err
    assert "upwatch: long-tail (apprise): not delivered" in err
    assert "upwatch would retry this for up to 24 h" in err
    assert secrets_in(err) == []
