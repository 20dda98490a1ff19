"""What `region.unavailable` and `region.available` say, and where they go."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.config_helpers import ConfigFiles
from upwatch.config.models import Config
from upwatch.engine.model import EventType
from upwatch.notify.channels.pagerduty import alert
from upwatch.notify.channels.webhook import document
from upwatch.notify.message import message_from_payload
from upwatch.notify.render import Renderer
from upwatch.runtime.region_watch import notice_channels, region_notices

AT = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
CHANNELS = """
channels:
  team: {type: webhook, url: "http://127.0.0.1:9/team"}
  ops: {type: webhook, url: "http://127.0.0.1:9/ops"}
  pager: {type: webhook, url: "http://127.0.0.1:9/pager"}
"""


def with_policies(tmp_path: Path, escalations: str, monitors: str) -> Config:
    """A config with the three channels, `escalations` and `monitors` (YAML lines)."""
    text = f"version: 1\n{CHANNELS}escalations:\n{escalations}monitors:\n{monitors}"
    return ConfigFiles(tmp_path).config(text)


API = '  - {id: api, name: API, url: "http://127.0.0.1:1/", regions: [us, eu], escalation: ops}\n'


def test_the_notice_goes_to_the_default_policy_s_first_step(tmp_path: Path) -> None:
    config = with_policies(
        tmp_path,
        "  default: [{after: 0s, notify: [team]}, {after: 5m, notify: [pager]}]\n"
        "  ops: [{after: 0s, notify: [ops]}]\n",
        API,
    )
    assert notice_channels(config, "eu") == ("team",)


def test_without_a_default_policy_the_first_listing_monitor_s_policy_is_used(
    tmp_path: Path,
) -> None:
    config = with_policies(
        tmp_path,
        "  ops: [{after: 0s, notify: [ops, team]}, {after: 5m, notify: [pager]}]\n",
        '  - {id: web, name: Web, url: "http://127.0.0.1:1/", escalation: ops}\n' + API,
    )
    assert notice_channels(config, "eu") == ("ops", "team")
    assert notice_channels(config, "mars") == ()  # no monitor lists it: nobody to tell


@pytest.mark.parametrize(
    ("event", "subject", "headline"),
    [
        (
            EventType.REGION_UNAVAILABLE,
            "[REGION UNAVAILABLE] eu — no live upwatch instance in eu for 30s",
            "Region eu has no live upwatch instance",
        ),
        (
            EventType.REGION_AVAILABLE,
            "[REGION AVAILABLE] eu — eu has a live upwatch instance again",
            "Region eu is back",
        ),
    ],
)
def test_region_messages_name_the_region_in_every_form(
    tmp_path: Path, event: EventType, subject: str, headline: str
) -> None:
    policies = "  default: [{after: 0s, notify: [team]}]\n  ops: [{after: 0s, notify: [ops]}]\n"
    config = with_policies(tmp_path, policies, API)
    (notice,) = region_notices(config, "eu", event, AT)
    message = message_from_payload(
        key=notice.key,
        event=str(notice.event),
        channel=notice.channel,
        at=notice.at,
        payload=notice.data,
        monitor=None,
    )
    renderer = Renderer()
    assert renderer.subject(message).startswith(subject)
    assert headline in renderer.text(message)
    assert headline in renderer.html(message)
    body = document(message)
    assert body["type"] == str(event)
    assert body["data"]["region"] == "eu"
    assert body["data"]["monitor"] is None
    action, key = alert(message) or ("", "")
    assert key == "upwatch-region-eu"  # one PagerDuty alert per region, resolved when back
    assert action == ("resolve" if event is EventType.REGION_AVAILABLE else "trigger")
