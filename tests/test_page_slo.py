"""SLOs through the real app on SQLite and PostgreSQL: incidents stored by the pipeline, shown on
`/monitors/{id}`, in `GET /api/v1/monitors/{id}` and on `/metrics`."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from datetime import datetime

import pytest

from tests.page_data import client
from tests.store_helpers import Harness, MakeHarness, at, config, degraded, down, http, up

NOW = at(hours=4, minutes=5)
TOKEN = "metrics-token-0123456789"


def _z(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _monitor(monitor_id: str, **fields: object) -> dict[str, object]:
    return http(monitor_id, failure_threshold=1, recovery_threshold=1, **fields)


@pytest.fixture
async def history(make_harness: MakeHarness) -> Harness:
    """`api` (99.9 % over 30 days: 2592 s of budget) is down 10 minutes from T0, degraded for an
    hour, down from 1:50 to 2:30 of which 2:00 to 2:30 is maintenance, and down again since 4:00:
    10 + 10 + 5 = 25 minutes of bad time at 4:05. `cdn` is only ever degraded."""
    slo = {"target": "99.9%", "window": "30d"}
    upgrade = {"name": "Upgrade", "monitors": ["api"], "start": _z(at(2)), "end": _z(at(3))}
    harness = await make_harness(
        config(
            _monitor("api", name="Public API", slo=slo),
            _monitor("cdn", slo={"target": "99%", "window": "7d"}),
            _monitor("web"),
            _monitor("admin", public=False, slo=slo),
            maintenance=[upgrade],
        )
    )
    await harness.feed("api", down(at()), up(at(minutes=10)))
    await harness.feed("api", *(degraded(at(hours=1, minutes=m)) for m in range(0, 60, 5)))
    await harness.feed("api", down(at(hours=1, minutes=50)), up(at(hours=2, minutes=30)))
    await harness.feed("api", down(at(hours=4)))
    await harness.feed("cdn", *(degraded(at(hours=h)) for h in range(4)))
    await harness.feed("web", up(at()))
    await harness.feed("admin", down(at()))
    assert await harness.flush(NOW)
    return harness


async def test_the_api_gives_budget_and_burn_from_stored_incidents(history: Harness) -> None:
    async with client(history) as c:
        api = (await c.get("/api/v1/monitors/api")).json()
        cdn = (await c.get("/api/v1/monitors/cdn")).json()
        web = (await c.get("/api/v1/monitors/web")).json()

    assert api["slo"] == {
        "target": 99.9,
        "window": "30d",
        "budget_seconds": 2592.0,
        "budget_left_seconds": 1092.0,  # 2592 - 1500
        "budget_left_percent": 42.12,  # 42.129..., rounded down
        "burn": {"1h": 83.33, "6h": 69.44, "3d": 5.79},  # 300/3.6, 1500/21.6, 1500/259.2
    }
    assert cdn["slo"]["budget_left_percent"] == 100.0  # degraded is good
    assert cdn["slo"]["burn"] == {"1h": 0.0, "6h": 0.0, "3d": 0.0}
    assert web["slo"] is None


async def test_the_monitor_page_shows_the_slo_panel(history: Harness) -> None:
    async with client(history) as c:
        api = (await c.get("/monitors/api")).text
        web = (await c.get("/monitors/web")).text

    assert "Target 99.9% over 30 days: an error budget of 43m 12s of downtime." in api
    tiles = re.findall(r'<div class="tile"><b>([^<]+)</b><span>([^<]+)</span>', api)
    assert ("18m 12s", "error budget left (42.12%)") in tiles
    assert ("83.33×", "burn rate, last 1 hour") in tiles
    assert ("69.44×", "burn rate, last 6 hours") in tiles
    assert ("5.79×", "burn rate, last 3 days") in tiles
    assert "Service level objective" not in web


async def test_an_overspent_budget_is_shown_as_overspent(history: Harness) -> None:
    assert await history.flush(at(hours=4, minutes=40))  # 25 + 35 = 60 minutes of 43.2

    async with client(history) as c:
        body = (await c.get("/api/v1/monitors/api")).json()
        page = (await c.get("/monitors/api")).text

    assert body["slo"]["budget_left_seconds"] == -1008.0
    assert body["slo"]["budget_left_percent"] == -38.89
    assert '<b class="bad">overspent by 16m 48s</b>' in page
    assert "error budget left (−38.89%)" in page


async def test_metrics_carry_slo_gauges_of_public_monitors_only(history: Harness) -> None:
    async with client(history) as c:
        public = (await c.get("/metrics")).text
    async with client(history, metrics_token=TOKEN) as c:
        private = (await c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text

    assert 'upwatch_slo_target_ratio{monitor="api"} 0.999' in public
    assert re.search(r'upwatch_slo_budget_left_ratio\{monitor="api"\} 0\.4212', public)
    assert re.search(r'upwatch_slo_burn_rate\{monitor="api",window="1h"\} 83\.33', public)
    assert 'upwatch_slo_burn_rate{monitor="api",window="5m"} 1000.0' in public
    assert 'upwatch_slo_budget_left_ratio{monitor="cdn"} 1.0' in public
    assert 'monitor="web"' in public
    assert not re.search(r'upwatch_slo_\w+\{monitor="web"', public)
    assert 'monitor="admin"' not in public
    assert 'upwatch_slo_budget_left_ratio{monitor="admin"}' in private


async def test_promtool_accepts_the_slo_families(history: Harness) -> None:
    binary = shutil.which("promtool")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool is required under CI=true")
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    async with client(history) as c:
        text = (await c.get("/metrics")).text

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
