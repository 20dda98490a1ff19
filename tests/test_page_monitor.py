"""`/monitors/{id}`: one monitor's state, uptime, bars, response-time chart and incidents."""

from __future__ import annotations

import re

import pytest

from tests.page_data import client, seed_demo
from tests.store_helpers import Harness, MakeHarness

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
async def demo(make_harness: MakeHarness) -> Harness:
    return await seed_demo(make_harness)


async def test_the_page_shows_state_uptime_and_daily_bars(demo: Harness) -> None:
    async with client(demo) as c:
        html = (await c.get("/monitors/api")).text

    assert "<title>Public API · Acme Status</title>" in html
    assert "Core services · HTTP check" in html
    assert "Operational since" in html
    tiles = re.findall(r'<div class="tile"><b>([^<]+)</b><span>uptime, last ([^<]+)</span>', html)
    assert [label for _, label in tiles] == ["24 hours", "7 days", "30 days", "90 days"]
    assert '<span class="tip">2026-11-20: 99.51% up, 7m down</span>' in html


async def test_the_chart_draws_hourly_p50_and_p95_with_labelled_axes(demo: Harness) -> None:
    async with client(demo) as c:
        html = (await c.get("/monitors/api")).text

    chart = html[
        html.index('<svg class="chart"') : html.index("</svg>", html.index('class="chart"'))
    ]
    assert 'role="img"' in chart
    assert '<title id="chart-title">Response time of Public API, last 48 hours</title>' in chart
    assert re.search(r'<path class="p50" d="M[\d.]+ [\d.]+( L[\d.]+ [\d.]+)+"', chart)
    assert re.search(r'<path class="p95" d="M[\d.]+ [\d.]+( L[\d.]+ [\d.]+)+"', chart)
    y_labels = re.findall(r'text-anchor="end">([^<]+)</text>', chart)
    assert y_labels[0] == "0 ms"
    assert len(y_labels) == 5
    x_labels = re.findall(r'text-anchor="middle">([^<]+)</text>', chart)
    assert "Sat 21" in x_labels
    assert "Sun 22" in x_labels
    assert "12:00" in x_labels
    assert "Show the hourly values" in html  # the same numbers as a table


async def test_the_seven_day_range_is_a_link_not_a_script(demo: Harness) -> None:
    async with client(demo) as c:
        short = (await c.get("/monitors/api")).text
        week = (await c.get("/monitors/api?range=7d")).text
        junk = (await c.get("/monitors/api?range=<b>")).text

    assert '<a href="?range=48h" aria-current="page">last 48 hours</a>' in short
    assert '<a href="?range=7d" aria-current="page">last 7 days</a>' in week
    assert "Response time of Public API, last 7 days" in week
    assert '<a href="?range=48h" aria-current="page">' in junk


async def test_the_incidents_table_lists_this_monitors_incidents(demo: Harness) -> None:
    async with client(demo) as c:
        api = (await c.get("/monitors/api")).text
        web = (await c.get("/monitors/web")).text
        db = (await c.get("/monitors/db")).text

    assert "<td>Nov 20, 05:00 UTC</td><td>7m</td><td>Connection refused</td>" in api
    assert "Resolved Nov 20, 05:07 UTC" in api
    assert "<td>9m so far</td><td>Unexpected response</td>" in web
    assert "<td>Ongoing</td>" in web
    assert "Down since Nov 22, 07:51 UTC." in web
    assert "No incidents recorded for Database." in db


async def test_maintenance_of_this_monitor_is_announced(demo: Harness) -> None:
    async with client(demo) as c:
        db = (await c.get("/monitors/db")).text
        cdn = (await c.get("/monitors/cdn")).text

    assert "In scheduled maintenance" in db
    assert "In progress</span>Database upgrade" in db
    assert "Database upgrade" not in cdn
    assert "Scheduled</span>Weekly patching" in cdn


async def test_an_unknown_monitor_is_a_404_page_with_a_way_back(demo: Harness) -> None:
    async with client(demo) as c:
        response = await c.get("/monitors/no-such-thing")

    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<a href="/">See the status of every service</a>' in response.text
    assert "no-such-thing" not in response.text
