"""Written updates on the status page, the monitor page and the Atom feed."""

from __future__ import annotations

from collections.abc import Callable
from xml.etree import ElementTree

import httpx
import pytest

from tests.store_helpers import Harness, MakeHarness, at, config, down, http

TOKEN = "t0ken-for-the-api-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def client_of(
    make_client: Callable[..., httpx.AsyncClient],
) -> Callable[[Harness], httpx.AsyncClient]:
    """One app both writes (with the token) and serves the pages, so a write shows at once."""

    def make(harness: Harness) -> httpx.AsyncClient:
        return make_client(harness, api_token=TOKEN)

    return make


async def test_updates_show_under_the_incident_on_the_page_and_the_monitor_page(
    make_harness: MakeHarness, client_of: Callable[[Harness], httpx.AsyncClient]
) -> None:
    api = http("api", name="Public API", failure_threshold=1)
    harness = await make_harness(config(api))
    await harness.feed("api", down(at(minutes=1)))
    client = client_of(harness)
    harness.clock.now = at(minutes=3)
    monitor_incident = (await client.get("/api/v1/incidents")).json()["incidents"][0]["id"]
    path = f"/api/v1/incidents/{monitor_incident}/updates"
    written = {"status": "identified", "body": "A <bad> cache node."}
    assert (await client.post(path, json=written, headers=AUTH)).status_code == 201
    declared = {"title": "Slow logins", "body": "Logins take 10 s.", "monitors": ["api"]}
    assert (await client.post("/api/v1/incidents", json=declared, headers=AUTH)).status_code == 201

    page = (await client.get("/")).text
    monitor_page = (await client.get("/monitors/api")).text

    assert "A &lt;bad&gt; cache node." in page  # escaped like everything people write
    assert "Slow logins" in page
    assert "Logins take 10 s." in page
    assert "<b>Identified</b>" in page
    assert "<b>Investigating</b>" in page
    assert "A &lt;bad&gt; cache node." in monitor_page
    assert "Slow logins" in monitor_page


async def test_each_update_is_an_entry_of_the_atom_feed(
    make_harness: MakeHarness, client_of: Callable[[Harness], httpx.AsyncClient]
) -> None:
    harness = await make_harness(config(http("api", name="Public API")))
    client = client_of(harness)
    declared = {"title": "Slow logins", "body": "Logins take 10 s."}
    incident_id = (await client.post("/api/v1/incidents", json=declared, headers=AUTH)).json()["id"]
    harness.clock.now = at(minutes=30)
    fixed = {"status": "resolved", "body": "Back to normal."}
    path = f"/api/v1/incidents/{incident_id}/updates"
    assert (await client.post(path, json=fixed, headers=AUTH)).status_code == 201

    feed = ElementTree.fromstring((await client.get("/feed.atom")).content)

    entries = [
        (e.findtext(f"{ATOM}title"), e.findtext(f"{ATOM}content"), e.findtext(f"{ATOM}updated"))
        for e in feed.iter(f"{ATOM}entry")
    ]
    assert entries == [
        ("Resolved: Slow logins", "Back to normal.", "2026-11-22T08:30:00Z"),
        ("Investigating: Slow logins", "Logins take 10 s.", "2026-11-22T08:00:00Z"),
        (
            "Resolved: Slow logins",
            entries[2][1],
            "2026-11-22T08:30:00Z",
        ),
    ]
    links = [e.find(f"{ATOM}link").get("href") for e in feed.iter(f"{ATOM}entry")]  # type: ignore[union-attr]
    assert links == ["/"] * 3  # a declared incident naming no monitor links to the page
    ids = [e.findtext(f"{ATOM}id") for e in feed.iter(f"{ATOM}entry")]
    assert len(set(ids)) == 3
