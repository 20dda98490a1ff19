"""The status page at `/`: what a customer sees, on both database backends."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.page_data import client, context, demo_config, seed_demo
from tests.store_helpers import Harness, MakeHarness
from upwatch.web.app import create_app
from upwatch.web.pages_format import percent


@pytest.fixture
async def demo(make_harness: MakeHarness) -> Harness:
    return await seed_demo(make_harness)


def section(html: str, heading: str) -> str:
    """The page from `heading` to the next section heading."""
    start = html.index(f'<h2 class="sec">{heading}</h2>')
    end = html.find('<h2 class="sec">', start + 1)
    return html[start : end if end > 0 else None]


async def test_the_banner_says_partial_outage_and_names_what_is_down(demo: Harness) -> None:
    async with client(demo) as c:
        html = (await c.get("/")).text

    assert 'class="banner b-partial_outage"' in html
    assert "<h2>Partial outage</h2>" in html
    assert "Down: Website and &lt;script&gt;" in html
    assert "<title>Acme Status</title>" in html


async def test_groups_list_public_monitors_in_config_order_with_their_state_in_words(
    demo: Harness,
) -> None:
    async with client(demo) as c:
        html = section((await c.get("/")).text, "Services")

    rows = re.findall(r'<a class="name" href="/monitors/([^"]+)">.*?class="pill s-(\w+)"', html)
    assert rows == [
        ("api", "up"),
        ("web", "down"),
        ("db", "maintenance"),
        ("cdn", "degraded"),
        ("legacy", "paused"),
        ("evil", "down"),
        ("backup", "up"),
    ]
    groups = re.findall(r"<summary><h2>(.*?)</h2>", html)
    assert groups == ["Core services", "Edge", "&lt;img src=x onerror=alert(1)&gt;", "Jobs"]
    for words in ("Operational", "Down", "Maintenance", "Degraded", "Paused", "1 of 3 down"):
        assert f"{words}</span>" in html
    # The degraded CDN's cause in plain words (the test's wording is not a probe's slow cause).
    assert '<p class="cause">Unexpected response</p>' in html


async def test_every_bar_is_labelled_with_its_day_uptime_and_downtime(demo: Harness) -> None:
    async with client(demo) as c:
        html = (await c.get("/")).text
    api = html[html.index('id="m-api"') : html.index('id="m-web"')]

    runs = re.findall(
        r'class="run (\w+)" role="listitem" tabindex="0" style="--n:(\d+)">'
        r'<span class="tip">([^<]+)</span>',
        api,
    )
    assert sum(int(days) for _, days, _ in runs) == 90
    assert runs[-1] == ("up", "2", "2026-11-21 to 2026-11-22: 100% up, no downtime")
    assert ("minor", "1", "2026-11-20: 99.51% up, 7m down") in runs  # 7 minutes of 24 hours
    assert runs[0][0] == "none"
    assert runs[0][2].startswith("2026-08-25 to ")  # before the first result: one run
    assert runs[0][2].endswith(": no data")
    assert len(runs) < 10  # days that read the same are one element
    assert 'aria-label="Uptime per day, last 90 days"' in api
    assert "1 day with downtime" in api


async def test_a_group_has_its_own_page_and_unknown_groups_are_a_404(demo: Harness) -> None:
    async with client(demo) as c:
        core = await c.get("/groups/core-services")
        missing = await c.get("/groups/nope")

    assert core.status_code == 200
    assert "<h1>Core services</h1>" in core.text
    for name in ("Public API", "Website", "Database"):
        assert f">{name}</a>" in core.text
    assert ">CDN</a>" not in core.text
    assert missing.status_code == 404
    assert "There is nothing here" in missing.text


async def test_uptime_figures_match_the_json_api(demo: Harness) -> None:
    async with client(demo) as c:
        html = (await c.get("/")).text
        document = (await c.get("/api/v1/status")).json()

    monitors = {m["id"]: m for g in document["groups"] for m in g["monitors"]}
    for monitor_id in ("api", "web", "cdn"):
        row = html[html.index(f'id="m-{monitor_id}"') :]
        shown = re.findall(r"<span>(24h|7d|30d|90d) <b>([^<]+)</b>", row)[:4]
        assert shown == [(k, percent(v)) for k, v in monitors[monitor_id]["uptime"].items()]


async def test_open_incidents_say_since_when_and_why_in_public_words(demo: Harness) -> None:
    async with client(demo) as c:
        html = section((await c.get("/")).text, "Ongoing incidents")

    assert "Website is down" in html
    assert "Since Nov 22, 07:51 UTC (9m so far). Cause: Unexpected response." in html
    assert "acme.test" not in html


async def test_announcements_and_maintenance_are_shown_while_current(demo: Harness) -> None:
    async with client(demo) as c:
        html = section((await c.get("/")).text, "Announcements and maintenance")

    assert "Slower EU responses &lt;i&gt;" in html
    assert "We are working with our provider &amp; CDN." in html
    assert "In progress</span>Database upgrade" in html
    assert "Nov 22, 07:30 – 09:00 UTC" in html
    assert "Scheduled</span>Weekly patching" in html
    assert "Affects all services." in html


async def test_past_incidents_list_only_resolved_ones_and_only_days_that_had_some(
    demo: Harness,
) -> None:
    async with client(demo) as c:
        html = section((await c.get("/")).text, "Past incidents")

    days = re.findall(r"<h3>(\w{3}, \w{3} \d+, 2026)</h3>", html)
    assert days == ["Fri, Nov 20, 2026"]  # today's incidents are all still open
    assert "<b>Public API</b>\n— down for 7m, 05:00 UTC to 05:07 UTC." in html
    assert "Cause: Connection refused." in html
    assert "Website" not in html  # ongoing: listed above the services, not here
    assert "No incidents" not in html


async def test_the_page_reads_incidents_then_notices_then_services_then_history(
    demo: Harness,
) -> None:
    async with client(demo) as c:
        html = (await c.get("/")).text

    headings = re.findall(r'<h2 class="sec">([^<]+)</h2>', html)
    assert headings == [
        "Ongoing incidents",
        "Announcements and maintenance",
        "Services",
        "Past incidents",
    ]
    assert html.count("Weekly patching") == 1  # a recurring window is one entry


async def test_robots_txt_allows_every_crawler(demo: Harness) -> None:
    async with client(demo) as c:
        response = await c.get("/robots.txt")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "User-agent: *\nAllow: /\n"


async def test_the_page_does_not_reload_itself_works_without_javascript_in_light_and_dark(
    demo: Harness,
) -> None:
    async with client(demo) as c:
        html = (await c.get("/")).text

    assert 'http-equiv="refresh"' not in html
    assert "reloads every" not in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "@media (prefers-color-scheme:dark)" in html
    assert "<script" not in html.lower()
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html)  # no external assets
    assert "@media (max-width:640px)" in html  # a phone shows 30 bars


async def test_every_response_carries_the_security_headers(demo: Harness) -> None:
    paths = ["/", "/monitors/api", "/monitors/nope", "/badge/api.svg", "/feed.atom", "/metrics"]
    async with client(demo) as c:
        for path in paths:
            response = await c.get(path)
            assert response.headers["x-content-type-options"] == "nosniff", path
            assert response.headers["referrer-policy"] == "no-referrer", path
            assert "default-src 'none'" in response.headers["content-security-policy"], path


async def test_pages_are_compressed_and_a_client_with_the_current_copy_gets_304(
    demo: Harness,
) -> None:
    async with client(demo) as c:
        first = await c.get("/", headers={"accept-encoding": "gzip"})
        again = await c.get("/", headers={"if-none-match": first.headers["etag"]})
        plain = await c.get("/", headers={"accept-encoding": "identity"})

    assert first.headers["content-encoding"] == "gzip"
    assert int(first.headers["content-length"]) < len(first.content) / 3
    assert first.headers["content-type"] == "text/html; charset=utf-8"
    assert again.status_code == 304
    assert "content-encoding" not in plain.headers
    assert plain.text == first.text


async def test_before_the_database_opens_the_page_is_a_503_that_retries(demo: Harness) -> None:
    ctx = context(demo)
    ctx.engine = None
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://status.test") as c:
        response = await c.get("/")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert '<meta http-equiv="refresh" content="5">' in response.text
    assert "Starting up" in response.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_auto_refresh_reloads_the_page_as_often_as_configured(
    make_harness: MakeHarness,
) -> None:
    harness = await seed_demo(make_harness, demo_config(auto_refresh="90s"))
    async with client(harness) as c:
        html = (await c.get("/")).text

    assert '<meta http-equiv="refresh" content="90">' in html
    assert "This page reloads every 1m 30s." in html
