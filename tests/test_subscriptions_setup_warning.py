"""Subscriptions configured without UPWATCH_SECRET_KEY or status_page.public_url: subscribing
answers 503, so the daemon warns once at start and `upwatch check` warns too, naming what is
missing and what to set."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from tests import notify_receivers as nr
from tests.notify_receivers import Clock, notify_config
from upwatch.cli import main
from upwatch.config.loader import LoadedConfig
from upwatch.notify.worker import DeliveryWorker

MakeWorker = Callable[..., DeliveryWorker]
make_worker = nr.make_worker
KEY = "a-secret-key-for-the-subscription-warning-tests"
PUBLIC_URL = "https://status.acme.test"
STATUS_MAIL = {
    "type": "email",
    "smtp_url": "smtp://127.0.0.1:9",
    "from": "status@acme.test",
    "to": ["team@acme.test"],
}
ANSWERS_503 = "subscribing answers 503"


def page(*, subscriptions: bool = True, public_url: str | None = PUBLIC_URL) -> dict[str, Any]:
    found: dict[str, Any] = {"title": "Acme status"}
    if public_url is not None:
        found["public_url"] = public_url
    if subscriptions:
        found["subscriptions"] = {"email_channel": "status-mail"}
    return found


def loaded(**status_page: Any) -> LoadedConfig:
    return notify_config(
        {"status-mail": STATUS_MAIL},
        monitors=[{"id": "api", "name": "API", "url": "https://api.acme.test/health"}],
        status_page=page(**status_page),
    )


async def warnings_at_start(worker: DeliveryWorker) -> list[str]:
    with structlog.testing.capture_logs() as logs:
        await worker.start()
        await worker.stop()
    return [e["event"] for e in logs if e["log_level"] == "warning"]


def about_subscribing(warnings: list[str]) -> list[str]:
    return [w for w in warnings if w.startswith("status_page.subscriptions")]


async def test_without_the_secret_key_the_daemon_says_subscribing_answers_503_and_what_to_set(
    engine: AsyncEngine, make_worker: MakeWorker
) -> None:
    worker = make_worker(loaded(), Clock(), secret_key=None)

    [warning] = about_subscribing(await warnings_at_start(worker))

    assert warning == (
        "status_page.subscriptions is configured but UPWATCH_SECRET_KEY is not set: subscribing "
        "answers 503 and no confirmation mail is sent; set UPWATCH_SECRET_KEY to a long random "
        "value (`openssl rand -hex 32`)"
    )


async def test_without_the_public_url_the_daemon_names_status_page_public_url(
    engine: AsyncEngine, make_worker: MakeWorker
) -> None:
    worker = make_worker(loaded(public_url=None), Clock(), secret_key=KEY)

    warnings = await warnings_at_start(worker)

    [warning] = about_subscribing(warnings)
    assert "but status_page.public_url is not set" in warning
    assert "set status_page.public_url to the page's address" in warning
    assert "UPWATCH_SECRET_KEY" not in warning
    assert all(KEY not in w for w in warnings)


async def test_without_either_one_warning_names_both(
    engine: AsyncEngine, make_worker: MakeWorker
) -> None:
    worker = make_worker(loaded(public_url=None), Clock(), secret_key=None)

    [warning] = about_subscribing(await warnings_at_start(worker))

    assert "but UPWATCH_SECRET_KEY and status_page.public_url are not set" in warning
    assert ANSWERS_503 in warning


@pytest.mark.parametrize(
    ("status_page", "secret_key"),
    [
        ({}, KEY),
        ({"subscriptions": False}, None),
        ({"subscriptions": False, "public_url": None}, KEY),
    ],
)
async def test_nothing_is_said_when_subscriptions_are_ready_or_off(
    engine: AsyncEngine,
    make_worker: MakeWorker,
    status_page: dict[str, Any],
    secret_key: str | None,
) -> None:
    worker = make_worker(loaded(**status_page), Clock(), secret_key=secret_key)

    assert about_subscribing(await warnings_at_start(worker)) == []


async def test_only_the_worker_that_speaks_for_the_daemon_warns(
    engine: AsyncEngine, make_worker: MakeWorker
) -> None:
    worker = make_worker(loaded(), Clock(), secret_key=None, warn=False)

    assert await warnings_at_start(worker) == []


# ---- upwatch check ----------------------------------------------------------------------------


def written(tmp_path: Path, **status_page: Any) -> Path:
    path = tmp_path / "monitors.yaml"
    document = {
        "version": 1,
        "status_page": page(**status_page),
        "channels": {"status-mail": STATUS_MAIL},
        "monitors": [{"id": "api", "name": "API", "url": "https://api.acme.test/health"}],
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def check(path: Path, *options: str) -> None:
    """`upwatch check`, whose exit code stays 0: a warning never fails it."""
    assert main(["check", *options, "-c", str(path)]) == 0


def test_check_warns_without_the_secret_key_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("UPWATCH_SECRET_KEY", raising=False)
    path = written(tmp_path)

    check(path)

    out, err = capsys.readouterr()
    assert out.startswith("ok: 1 monitors")
    assert err.splitlines() == [
        f"{path}: warning: status_page.subscriptions is configured but UPWATCH_SECRET_KEY is not "
        "set: subscribing answers 503 and no confirmation mail is sent; set UPWATCH_SECRET_KEY "
        "to a long random value (`openssl rand -hex 32`)"
    ]


def test_check_is_quiet_when_the_key_is_set_and_never_shows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UPWATCH_SECRET_KEY", KEY)

    check(written(tmp_path))

    out, err = capsys.readouterr()
    assert err == ""
    assert KEY not in out


def test_check_without_the_environment_judges_only_the_public_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # An image is built without its secrets: the key is not judged, the file's public_url is.
    monkeypatch.delenv("UPWATCH_SECRET_KEY", raising=False)
    check(written(tmp_path), "--no-env")
    assert capsys.readouterr().err == ""

    path = written(tmp_path, public_url=None)
    check(path, "--no-env")

    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"{path}: warning: status_page.subscriptions is configured but ")
    assert "status_page.public_url is not set" in line
    assert "UPWATCH_SECRET_KEY" not in line
