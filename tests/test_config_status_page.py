"""monitors.yaml keys of the status page: auto_refresh, updates_policy and subscriptions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.config_helpers import ConfigFiles

BASE = """
version: 1
channels:
  hook: {type: webhook, url: "http://127.0.0.1:9/hook"}
  mail: {type: email, smtp_url: "smtp://127.0.0.1:25", from: a@b.test, to: [c@d.test]}
escalations:
  updates: [{after: 0s, notify: [hook]}]
monitors:
  - {id: web, name: Web, url: "http://127.0.0.1:1/"}
"""


@pytest.fixture
def configs(tmp_path: Path) -> ConfigFiles:
    return ConfigFiles(tmp_path)


def test_refresh_updates_and_subscriptions_are_read(configs: ConfigFiles) -> None:
    page = configs.config(
        BASE + "status_page: {auto_refresh: 60s, updates_policy: updates, "
        "subscriptions: {email_channel: mail}}\n"
    ).status_page
    assert page.auto_refresh == timedelta(seconds=60)
    assert page.updates_policy == "updates"
    assert page.subscriptions is not None
    assert page.subscriptions.email_channel == "mail"
    assert configs.config(BASE).status_page.auto_refresh is None  # no reload by default


def test_each_wrong_name_is_reported_where_it_was_written(configs: ConfigFiles) -> None:
    problems = configs.problems(
        BASE + "status_page: {auto_refresh: 5s, updates_policy: nope, "
        "subscriptions: {email_channel: hook}}\n"
    )
    found = {p.path: p.message for p in problems}
    assert found["status_page.auto_refresh"] == "must be at least 10s"
    assert found["status_page.updates_policy"] == (
        "no escalation policy named 'nope' (known: updates)"
    )
    assert found["status_page.subscriptions.email_channel"] == (
        "no email channel named 'hook' (known: mail)"
    )
