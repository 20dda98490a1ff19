"""monitors.yaml `regions` and `confirm`, and the instance's UPWATCH_REGION."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config_helpers import ConfigFiles
from upwatch.errors import UsageError
from upwatch.runtime.settings import Settings

URL = 'url: "http://127.0.0.1:1/"'


@pytest.fixture
def configs(tmp_path: Path) -> ConfigFiles:
    return ConfigFiles(tmp_path)


def test_regions_come_from_defaults_confirm_defaults_to_a_majority_and_heartbeats_have_none(
    configs: ConfigFiles,
) -> None:
    config = configs.config(
        "version: 1\n"
        "defaults: {regions: [us-west, eu-west, asia-southeast]}\n"
        "monitors:\n"
        f"  - {{id: api, name: API, {URL}}}\n"
        f"  - {{id: eu, name: EU, {URL}, regions: [eu-west], confirm: 1}}\n"
        f"  - {{id: any, name: Anywhere, {URL}, regions: null}}\n"
        "  - {id: cron, name: Cron, type: heartbeat, token: abcdefghijklmnopqrstu}\n"
    )
    api, eu, anywhere, cron = config.monitors
    assert (api.regions, api.quorum) == (["us-west", "eu-west", "asia-southeast"], 2)
    assert (eu.regions, eu.quorum) == (["eu-west"], 1)
    assert anywhere.regions is None
    assert cron.regions is None  # a heartbeat is not probed: the default does not reach it


@pytest.mark.parametrize(
    ("keys", "path", "words"),
    [
        ("regions: [us, eu], confirm: 3", "monitors.0.confirm", "number of regions (2)"),
        ("regions: [us, eu], confirm: 0", "monitors.0.confirm", "at least 1"),
        ("regions: [us, us]", "monitors.0.regions", "lists a region twice"),
        ("regions: []", "monitors.0.regions", "must not be empty"),
        ("regions: [US West]", "monitors.0.regions.0", "lowercase"),
        ("confirm: 1", "monitors.0.confirm", "needs `regions`"),
    ],
)
def test_a_wrong_regions_or_confirm_is_a_check_error_at_its_key(
    configs: ConfigFiles, keys: str, path: str, words: str
) -> None:
    problems = configs.problems(f"version: 1\nmonitors:\n  - {{id: a, name: A, {URL}, {keys}}}\n")
    assert [p.path for p in problems] == [path]
    assert words in problems[0].message


def test_a_heartbeat_that_lists_regions_is_told_it_has_none(configs: ConfigFiles) -> None:
    problems = configs.problems(
        "version: 1\nmonitors:\n"
        "  - {id: cron, name: Cron, type: heartbeat, token: abcdefghijklmnopqrstu, regions: [us]}\n"
    )
    assert [p.path for p in problems] == ["monitors.0.regions"]
    assert "not probed" in problems[0].message


def test_the_instance_region_comes_from_upwatch_region_then_railway_then_default() -> None:
    assert Settings.from_env({"UPWATCH_REGION": "eu-west"}).region == "eu-west"
    railway = {"RAILWAY_REPLICA_REGION": "europe-west4-drams3a"}
    assert Settings.from_env(railway).region == "europe-west4-drams3a"
    assert Settings.from_env({}).region == "default"
    source = Settings.from_env({"UPWATCH_SOURCE_ADDRESS": "127.0.0.2"})
    assert source.source_address == "127.0.0.2"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("UPWATCH_REGION", "EU West"), ("UPWATCH_SOURCE_ADDRESS", "eth0")],
)
def test_a_malformed_region_or_source_address_is_a_usage_error(variable: str, value: str) -> None:
    with pytest.raises(UsageError, match=variable):
        Settings.from_env({variable: value})
