"""`/metrics`: blackbox_exporter's names where they overlap, upwatch's own, the token rule
(with `UPWATCH_METRICS_TOKEN` set, a bearer token is needed and every monitor is covered;
without it, public monitors only), and output that `promtool check metrics` accepts."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.page_data import NOW, PRIVATE_NAME, client, seed_demo
from tests.store_helpers import Harness, MakeHarness
from upwatch.probes.result import ProbeResult, ProbeState
from upwatch.runtime.load import ScheduleLoad

TOKEN = "scrape-token-7f3a"
CERT_EXPIRY = NOW + timedelta(days=30)
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
async def demo(make_harness: MakeHarness) -> Harness:
    harness = await seed_demo(make_harness)
    latest = ProbeResult(
        ProbeState.UP,
        NOW - timedelta(seconds=30),
        0.125,
        status_code=200,
        cert_expires_at=CERT_EXPIRY,
    )
    await harness.feed("api", latest, now=NOW)
    return harness


def notifier() -> SimpleNamespace:
    """The delivery worker's counters, as the running daemon's worker keeps them."""
    return SimpleNamespace(
        delivered=Counter({"team-slack": 3}),
        retried=Counter({"pager": 2}),
        failed_permanently=Counter({"pager": 1}),
        gave_up=Counter(),
        announced=Counter({"pager": 1}),
    )


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return found[(name, tuple(sorted(labels.items())))]


async def test_blackbox_names_describe_each_public_monitors_latest_probe(demo: Harness) -> None:
    async with client(demo) as c:
        response = await c.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    found = samples(response.text)
    assert value(found, "probe_success", monitor="api") == 1
    assert value(found, "probe_success", monitor="web") == 0
    assert value(found, "probe_success", monitor="cdn") == 1  # degraded met every hard check
    assert value(found, "probe_duration_seconds", monitor="api") == pytest.approx(0.125)
    assert value(found, "probe_http_status_code", monitor="web") == 503
    assert value(found, "probe_ssl_earliest_cert_expiry", monitor="api") == CERT_EXPIRY.timestamp()
    assert ("probe_http_status_code", (("monitor", "backup"),)) not in found  # a heartbeat


async def test_upwatch_metrics_give_state_incidents_and_uptime(demo: Harness) -> None:
    async with client(demo) as c:
        found = samples((await c.get("/metrics")).text)

    assert value(found, "upwatch_monitor_state", monitor="db", state="maintenance") == 1
    assert value(found, "upwatch_monitor_state", monitor="db", state="up") == 0
    assert value(found, "upwatch_monitor_state", monitor="legacy", state="paused") == 1
    assert value(found, "upwatch_open_incidents", monitor="web") == 1
    assert value(found, "upwatch_open_incidents", monitor="api") == 0
    assert value(found, "upwatch_uptime_ratio", monitor="api", window="90d") < 1
    assert value(found, "upwatch_uptime_ratio", monitor="db", window="24h") == 1
    assert value(found, "upwatch_last_check_timestamp_seconds", monitor="api") == (
        (NOW - timedelta(seconds=30)).timestamp()
    )
    info = [labels for (name, labels) in found if name == "upwatch_monitor_info"]
    assert (
        ("group", "Core services"),
        ("monitor", "api"),
        ("name", "Public API"),
        ("public", "true"),
        ("type", "http"),
    ) in info


async def test_response_time_percentiles_are_the_json_apis_figures_in_seconds(
    demo: Harness,
) -> None:
    async with client(demo) as c:
        found = samples((await c.get("/metrics")).text)
        status = (await c.get("/api/v1/status")).json()

    [api] = [m for g in status["groups"] for m in g["monitors"] if m["id"] == "api"]
    for quantile, label in (("0.5", "p50"), ("0.95", "p95"), ("0.99", "p99")):
        seconds = value(found, "upwatch_response_time_seconds", monitor="api", quantile=quantile)
        assert seconds * 1000 == pytest.approx(api["response_time_ms"][label], abs=0.5)


async def test_without_a_token_private_monitors_stay_out(demo: Harness) -> None:
    async with client(demo) as c:
        text = (await c.get("/metrics")).text

    assert 'monitor="admin"' not in text
    assert PRIVATE_NAME not in text


async def test_with_a_token_a_bearer_header_is_required_and_every_monitor_is_covered(
    demo: Harness,
) -> None:
    async with client(demo, metrics_token=TOKEN) as c:
        missing = await c.get("/metrics")
        wrong = await c.get("/metrics", headers={"authorization": "Bearer nope"})
        basic = await c.get("/metrics", headers={"authorization": f"Basic {TOKEN}"})
        right = await c.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})

    assert [missing.status_code, wrong.status_code, basic.status_code] == [401, 401, 401]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert TOKEN not in missing.text
    assert right.status_code == 200
    found = samples(right.text)
    assert value(found, "probe_success", monitor="admin") == 0
    assert PRIVATE_NAME in right.text


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool is required under CI=true (.ci/run installs Debian's prometheus)")
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    return found


async def test_promtool_accepts_the_output(demo: Harness) -> None:
    binary = promtool()
    options = {"metrics_token": TOKEN, "notifier": notifier(), "pipeline": demo.pipeline}
    async with client(demo, **options) as c:
        text = (await c.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})).text
    found = samples(text)  # with the token, every channel by name
    assert (
        value(found, "upwatch_notifications_total", channel="team-slack", outcome="delivered") == 3
    )
    assert value(found, "upwatch_notifications_total", channel="pager", outcome="failed") == 1
    assert value(found, "upwatch_channel_failures_announced_total", channel="pager") == 1

    process = await asyncio.create_subprocess_exec(
        binary,
        "check",
        "metrics",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate(text.encode())
    assert process.returncode == 0, output.decode()
    assert output.decode().strip() == ""


async def test_notification_and_result_buffer_counters_come_from_the_running_process(
    demo: Harness,
) -> None:
    demo.pipeline.dropped = 4
    load = ScheduleLoad(probes=120, skipped=7, late=9, overloaded=True, p99_lag=2.5)
    probing = SimpleNamespace(
        held={3, 9, 40},
        serving_only=False,
        load=load,
        region="eu-west",
        live_regions=lambda: frozenset({"eu-west"}),
        listed_regions=lambda: ["eu-west", "us-east"],
    )
    async with client(demo, notifier=notifier(), pipeline=demo.pipeline, probing=probing) as c:
        text = (await c.get("/metrics")).text

    found = samples(text)
    # Without the token, channel names stay out: who is paged, and how, is nobody's business.
    assert "team-slack" not in text
    assert "pager" not in text
    assert value(found, "upwatch_notifications_total", channel="all", outcome="delivered") == 3
    assert value(found, "upwatch_notifications_total", channel="all", outcome="failed") == 1
    assert value(found, "upwatch_channel_failures_announced_total", channel="all") == 1
    assert value(found, "upwatch_results_dropped_total") == 4
    assert value(found, "upwatch_results_buffered") == 0
    assert value(found, "upwatch_database_up") == 1
    assert value(found, "upwatch_results_written_total") == demo.pipeline.written
    assert value(found, "upwatch_shards_held") == 3
    assert value(found, "upwatch_stepped_down") == 0
    assert value(found, "upwatch_probes_started_total", region="eu-west") == 120
    assert value(found, "upwatch_probe_slots_skipped_total", region="eu-west") == 7
    assert value(found, "upwatch_probes_late_total", region="eu-west") == 9
    assert value(found, "upwatch_region_up", region="eu-west") == 1
    assert value(found, "upwatch_region_up", region="us-east") == 0
    assert value(found, "upwatch_schedule_lag_p99_seconds") == 2.5
    assert value(found, "upwatch_overloaded") == 1
