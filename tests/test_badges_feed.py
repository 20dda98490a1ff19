"""Integrations: shields-style SVG badges and the Atom feed of incidents."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.page_data import HOSTILE_CAUSE, HOSTILE_NAME, client, demo_config, seed_demo
from tests.store_helpers import Harness, MakeHarness

SVG_NS = "{http://www.w3.org/2000/svg}"
ATOM = "{http://www.w3.org/2005/Atom}"
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
async def demo(make_harness: MakeHarness) -> Harness:
    return await seed_demo(make_harness)


def badge_text(svg: str) -> tuple[str, str]:
    """(title, message colour) of a badge, parsed as XML so escaping must be right."""
    root = ET.fromstring(svg)
    title = root.find(f"{SVG_NS}title")
    rects = root.findall(f"{SVG_NS}g/{SVG_NS}rect")
    assert title is not None
    return title.text or "", rects[1].get("fill") or ""


async def test_the_status_badge_shows_each_state_in_words_and_colour(demo: Harness) -> None:
    async with client(demo) as c:
        found = {m: await c.get(f"/badge/{m}.svg") for m in ("api", "web", "cdn", "db", "legacy")}

    assert {m: badge_text(r.text) for m, r in found.items()} == {
        "api": ("Public API: up", "#4c1"),
        "web": ("Website: down", "#e05d44"),
        "cdn": ("CDN: degraded", "#dfb317"),
        "db": ("Database: maintenance", "#007ec6"),
        "legacy": ("Legacy API: paused", "#9f9f9f"),
    }
    response = found["api"]
    assert response.headers["content-type"] == "image/svg+xml; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=60"


async def test_the_uptime_badge_shows_the_window_asked_for(demo: Harness) -> None:
    async with client(demo) as c:
        uptime = (await c.get("/api/v1/status")).json()["groups"][0]["monitors"][0]["uptime"]
        week = await c.get("/badge/api/uptime.svg?window=7d")
        default = await c.get("/badge/api/uptime.svg")
        day = await c.get("/badge/api/uptime.svg?window=24h&label=API")

    assert badge_text(week.text) == (f"uptime 7d: {uptime['7d']:.2f}%", "#4c1")
    assert badge_text(default.text)[0] == f"uptime 30d: {uptime['30d']:.2f}%"
    assert badge_text(day.text) == ("API: 100%", "#4c1")


async def test_a_bad_window_is_a_400_badge_that_says_what_is_allowed(demo: Harness) -> None:
    async with client(demo) as c:
        response = await c.get("/badge/api/uptime.svg?window=1y")

    assert response.status_code == 400
    assert badge_text(response.text)[0] == "uptime: window: 24h, 7d, 30d or 90d"


async def test_unknown_ids_get_a_grey_not_found_badge_with_404(demo: Harness) -> None:
    async with client(demo) as c:
        for path in ("/badge/nope.svg", "/badge/nope/uptime.svg", "/badge/admin.svg"):
            response = await c.get(path)
            assert response.status_code == 404, path
            assert badge_text(response.text)[1] == "#9f9f9f"
            assert "not found" in badge_text(response.text)[0]


async def test_badge_text_from_config_or_the_query_is_escaped(demo: Harness) -> None:
    async with client(demo) as c:
        hostile = await c.get("/badge/evil.svg")
        label = await c.get('/badge/api.svg?label=<script>x</script>"')

    assert badge_text(hostile.text)[0] == f"{HOSTILE_NAME}: down"
    assert "<script" not in hostile.text
    assert badge_text(label.text)[0] == '<script>x</script>": up'
    assert "<script" not in label.text


async def test_the_feed_lists_public_incidents_newest_first(demo: Harness) -> None:
    async with client(demo) as c:
        response = await c.get("/feed.atom")

    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.text)
    entries = root.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert titles == [
        f"{HOSTILE_NAME} is down",
        "Website is down",
        "Resolved: Public API was down for 7m",
    ]
    resolved = entries[-1]
    assert resolved.findtext(f"{ATOM}content") == (
        "Public API was down from Nov 20, 05:00 UTC to Nov 20, 05:07 UTC (7m). "
        "Cause: Connection refused."
    )
    assert resolved.findtext(f"{ATOM}updated") == "2026-11-20T05:07:00Z"
    assert resolved.findtext(f"{ATOM}id", "").startswith("tag:upwatch.invalid,2026-11-20:incident/")
    link = resolved.find(f"{ATOM}link")
    assert link is not None
    assert link.get("href") == "/monitors/api"
    assert "Cause: Unexpected response." in (entries[0].findtext(f"{ATOM}content") or "")
    assert HOSTILE_CAUSE not in response.text  # not even escaped: public causes are plain words
    assert "acme.test" not in response.text
    assert root.findtext(f"{ATOM}updated") == "2026-11-22T07:56:00Z"


async def test_feed_links_are_absolute_with_public_url_and_never_from_the_host_header(
    make_harness: MakeHarness,
) -> None:
    harness = await seed_demo(make_harness, demo_config(public_url="https://status.acme.dev/"))
    async with client(harness) as c:
        text = (await c.get("/feed.atom", headers={"host": "evil.example"})).text

    root = ET.fromstring(text)
    assert root.findtext(f"{ATOM}id") == "https://status.acme.dev/feed.atom"
    hrefs = [link.get("href") for link in root.iter(f"{ATOM}link")]
    assert "https://status.acme.dev/monitors/api" in hrefs
    assert all(h and h.startswith("https://status.acme.dev/") for h in hrefs)
    assert "evil.example" not in text
