"""What public surfaces must never show: raw HTML from config or probed servers, secrets,
private and archived monitors, hostnames in causes (unless `show_urls`)."""

from __future__ import annotations

import pytest

from tests.page_data import (
    HOSTILE_CAUSE,
    HOSTILE_GROUP,
    HOSTILE_NAME,
    NOW,
    PRIVATE_HOST,
    PRIVATE_NAME,
    SECRETS,
    client,
    demo_config,
    seed_demo,
)
from tests.store_helpers import Harness, MakeHarness

PUBLIC_PATHS = (
    "/",
    "/monitors/api",
    "/monitors/web",
    "/monitors/backup",
    "/monitors/evil",
    "/badge/api.svg",
    "/badge/backup/uptime.svg",
    "/feed.atom",
    "/metrics",
    "/api/v1/status",
)


@pytest.fixture
async def demo(make_harness: MakeHarness) -> Harness:
    return await seed_demo(make_harness)


async def test_hostile_names_groups_causes_and_announcements_are_escaped(demo: Harness) -> None:
    async with client(demo) as c:
        pages = [(await c.get(p)).text for p in ("/", "/monitors/evil", "/feed.atom")]

    for html in pages:
        for raw in (HOSTILE_NAME, HOSTILE_GROUP, HOSTILE_CAUSE, "<i>", "<b>bold"):
            assert raw not in html
    home, detail, feed = pages
    assert (
        "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in home
    )
    assert "&lt;img src=x onerror=alert(1)&gt;" in home
    assert "Unexpected response" in detail  # the public cause, in plain words
    assert "&lt;script&gt;alert(&#34;name&#34;)" in feed
    assert "<b>boom</b>" not in home + detail + feed  # the full cause is for notifications


async def test_secrets_from_the_environment_appear_on_no_public_surface(demo: Harness) -> None:
    async with client(demo) as c:
        for path in PUBLIC_PATHS:
            text = (await c.get(path)).text
            for secret in SECRETS:
                assert secret not in text, path


async def test_a_private_monitor_is_absent_from_every_public_surface(demo: Harness) -> None:
    async with client(demo) as c:
        for path in PUBLIC_PATHS:
            text = (await c.get(path)).text
            for needle in (PRIVATE_NAME, PRIVATE_HOST, 'monitor="admin"', "/monitors/admin"):
                assert needle not in text, (path, needle)
        page = await c.get("/monitors/admin")
        badge = await c.get("/badge/admin.svg")
        uptime = await c.get("/badge/admin/uptime.svg")

    assert page.status_code == 404
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "There is nothing here" in page.text
    assert PRIVATE_NAME not in page.text
    assert (badge.status_code, uptime.status_code) == (404, 404)
    assert badge.headers["content-type"] == "image/svg+xml; charset=utf-8"
    assert "status: not found" in badge.text


async def test_an_archived_monitor_disappears_from_every_public_surface(demo: Harness) -> None:
    await demo.reload(demo_config(without=("cdn",)), NOW)

    async with client(demo) as c:
        home = (await c.get("/")).text
        statuses = [(await c.get(p)).status_code for p in ("/monitors/cdn", "/badge/cdn.svg")]
        metrics = (await c.get("/metrics")).text

    assert ">CDN</a>" not in home
    assert "/monitors/cdn" not in home
    assert statuses == [404, 404]
    assert 'monitor="cdn"' not in metrics


async def test_causes_leave_out_hosts_and_urls_unless_show_urls_is_on(
    make_harness: MakeHarness,
) -> None:
    hidden = await seed_demo(make_harness)
    async with client(hidden) as c:
        home, web = (await c.get("/")).text, (await c.get("/monitors/web")).text
        api = (await c.get("/monitors/api")).text
    assert "acme.test" not in home + web + api
    assert "Unexpected response" in web  # HTTP 503, in plain words
    assert "Connection refused" in api


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_show_urls_shows_the_full_cause_and_the_target(make_harness: MakeHarness) -> None:
    shown = await seed_demo(make_harness, demo_config(show_urls=True))
    async with client(shown) as c:
        web = (await c.get("/monitors/web")).text
        api = (await c.get("/monitors/api")).text

    assert "expected status 200, got 503 from https://web.acme.test/health" in web
    assert "<code>https://web.acme.test/health</code>" in web
    assert "connection refused to api.acme.test:443" in api
    for secret in SECRETS:
        assert secret not in api  # the target never carries credentials
