"""The page (`/`), `/api/v1/status` and `/feed.json` read one cached snapshot: on a page with every
kind of monitor state, an open and a declared incident and announcements, they tell the same
story, monitor by monitor and in the same order, and keep the same monitors private."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import Harness, MakeHarness, app_context, at, config, degraded, down, http
from tests.store_helpers import up as up_result
from upwatch.web.app import create_app
from upwatch.web.page_cache import PageCache

TOKEN = "agreement-test-token-0123456789"
PRIVATE = ("admin", "Internal admin panel")
DECLARED_TITLE = "Logins are slow"
FIRST_WORDS = "We are looking into slow logins."
SECOND_WORDS = "A database index was missing; it is being rebuilt."
NOW_ANNOUNCED = {
    "title": "Slower EU responses",
    "body": "We are working with our CDN provider.",
    "severity": "minor",
    "start": "2026-11-22T07:00:00Z",
    "end": "2026-11-23T08:00:00Z",
}
LATER_ANNOUNCED = {**NOW_ANNOUNCED, "title": "Datacenter move", "start": "2026-11-25T08:00:00Z"}
OVER_ANNOUNCED = {**NOW_ANNOUNCED, "title": "Old news", "end": "2026-11-22T07:30:00Z"}
NOTICE_KINDS = {"info", "minor", "major", "critical"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


# ---- a small DOM, enough to read the page by its class names and ids --------------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def all(self, tag: str, *classes: str) -> list[Node]:
        return [n for n in self.walk() if n.tag == tag and set(classes) <= n.classes]

    def first(self, tag: str, *classes: str) -> Node | None:
        return next(iter(self.all(tag, *classes)), None)

    def text(self) -> str:
        parts = (c if isinstance(c, str) else c.text() for c in self.children)
        return " ".join("".join(parts).split())


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root", {})
        self.open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.open[-1].children.append(node)
        if tag not in _VOID:
            self.open.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.open[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def with_prefix(node: Node, prefix: str) -> str:
    """The value of the class starting with `prefix` (`s-down` -> `down`)."""
    [found] = [c for c in node.classes if c.startswith(prefix)]
    return found.removeprefix(prefix)


# ---- what each surface says, in one comparable shape ------------------------------------------


def page_groups(page: Node) -> list[list[tuple[str, str, str | None]]]:
    """Per group, its monitors as (id, state, cause), in the order shown."""
    found = []
    for group in page.all("details", "group"):
        rows = []
        for row in group.all("li", "mon"):
            pill = row.first("span", "pill")
            cause = row.first("p", "cause")
            assert pill is not None
            state = with_prefix(pill, "s-")
            rows.append((row.attrs["id"].removeprefix("m-"), state, cause and cause.text()))
        found.append(rows)
    return found


def api_groups(document: dict[str, Any]) -> list[list[tuple[str, str, str | None]]]:
    return [
        [(m["id"], m["state"], m["cause"]) for m in group["monitors"]]
        for group in document["groups"]
    ]


def page_group_names(page: Node) -> list[str]:
    names = []
    for group in page.all("details", "group"):
        heading = group.first("h2")
        assert heading is not None
        names.append(heading.text())
    return names


def page_incidents(page: Node) -> list[dict[str, Any]]:
    found = []
    for card in page.all("article", "incident"):
        heading, line = card.first("h3"), card.first("p")
        assert heading is not None
        assert line is not None
        written = card.first("ol", "updates")
        updates = [] if written is None else [update_words(li) for li in written.all("li")]
        found.append({"heading": heading.text(), "line": line.text(), "updates": updates})
    return found


def update_words(item: Node) -> str:
    """`Identified <time> — what was written` as `Identified what was written`."""
    status = item.first("b")
    assert status is not None
    return f"{status.text()} {item.text().split(' — ', 1)[1]}"


def api_incidents(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The API's open incidents in the page's words: a declared one by its title, a monitor's as
    `<name> is down`; the cause at the end of the line; updates newest first."""
    found = []
    for incident in document["incidents"]:
        heading = incident["title"] if incident["declared"] else f"{incident['title']} is down"
        updates = [f"{u['status'].capitalize()} {u['body']}" for u in incident["updates"]]
        found.append({"heading": heading, "cause": incident["cause"], "updates": updates[::-1]})
    return found


def page_announcements(page: Node) -> list[tuple[str, str, str]]:
    found = []
    for card in page.all("article", "notice"):
        kind = with_prefix(card, "n-")
        if kind in NOTICE_KINDS:
            heading, tag = card.first("h3"), card.first("span", "tag")
            body = next(p for p in card.all("p") if "when" not in p.classes)
            assert heading is not None
            assert tag is not None
            title = heading.text().removeprefix(tag.text()).strip()
            found.append((kind, title, body.text()))
    return found


def banner_state(page: Node) -> str:
    banner = page.first("section", "banner")
    assert banner is not None
    return with_prefix(banner, "b-")


# ---- the scene ----------------------------------------------------------------------------------


def scene() -> Any:
    """Three groups whose members are interleaved in the file (a group is listed where its first
    monitor is), every state a monitor can show, and a private monitor that is down."""
    core, edge, data = "Core services", "Edge", "Data"
    return config(
        http("api", name="Public API", group=core),
        http("cdn", name="CDN", group=edge, expect={"response_time_under": "500ms"}),
        http("web", name="Website", group=core),
        http("db", name="Database", group=data),
        http("legacy", name="Legacy API", group=edge, paused=True),
        http(PRIVATE[0], name=PRIVATE[1], group=core, public=False),
        http("search", name="Search", group=data),
        http("docs", name="Docs"),
        maintenance=[
            {
                "name": "Database upgrade",
                "monitors": ["db"],
                "start": "2026-11-22T08:30:00Z",
                "end": "2026-11-22T10:00:00Z",
            }
        ],
        announcements=[NOW_ANNOUNCED, LATER_ANNOUNCED, OVER_ANNOUNCED],
    )


@pytest.fixture
async def client(make_harness: MakeHarness) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the scene, with a page cache that keeps its one snapshot for the whole test."""
    harness: Harness = await make_harness(scene())
    for monitor_id in ("api", "web", "db", "docs", "legacy", "cdn"):
        await harness.feed(monitor_id, up_result(at(minutes=1)))
    await harness.feed("cdn", degraded(at(minutes=4)))
    failing = "expected status 200, got 503 from https://web.acme.test/health"
    await harness.feed("web", *(down(at(minutes=m), failing, "HTTP 503") for m in (2, 3, 4)))
    private_cause = "connection refused to admin.corp.acme.test"
    await harness.feed(PRIVATE[0], *(down(at(minutes=m), private_cause) for m in (2, 3, 4)))
    harness.clock.now = at(hours=1)
    ctx = app_context(harness)
    ctx.settings = dataclasses.replace(ctx.settings, api_token=TOKEN)
    ctx.pages = PageCache(fresh_for=3600, changed_after=3600, stale_for=3600)
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://status.acme.test") as c:
        await declare_with_an_update(c)
        yield c


async def declare_with_an_update(client: httpx.AsyncClient) -> None:
    """A declared incident naming a public and the private monitor, with a second update."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    asked = {"title": DECLARED_TITLE, "body": FIRST_WORDS, "monitors": ["web", PRIVATE[0]]}
    declared = await client.post("/api/v1/incidents", json=asked, headers=auth)
    assert declared.status_code == 201
    path = f"/api/v1/incidents/{declared.json()['id']}/updates"
    updated = await client.post(
        path, json={"status": "identified", "body": SECOND_WORDS}, headers=auth
    )
    assert updated.status_code == 201


async def surfaces(client: httpx.AsyncClient) -> tuple[Node, dict[str, Any], str, dict[str, Any]]:
    """The page (parsed and as text), the API's status document and the JSON feed."""
    page = await client.get("/")
    status = await client.get("/api/v1/status")
    feed = await client.get("/feed.json")
    assert (page.status_code, status.status_code, feed.status_code) == (200, 200, 200)
    return parse(page.text), status.json(), page.text, feed.json()


# ---- the tests ----------------------------------------------------------------------------------


async def test_the_scene_has_every_state_so_the_comparisons_below_mean_something(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    _, document, _, _ = await surfaces(client)

    states = {m["id"]: m["state"] for g in document["groups"] for m in g["monitors"]}
    assert states == {
        "api": "up",
        "cdn": "degraded",
        "web": "down",
        "db": "maintenance",
        "legacy": "paused",
        "search": "unknown",
        "docs": "up",
    }
    assert [i["title"] for i in document["incidents"]] == [DECLARED_TITLE, "Website"]


async def test_page_and_api_agree_on_the_overall_status_and_every_monitor_in_order(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    page, document, _, _ = await surfaces(client)

    assert banner_state(page) == document["status"] == "partial_outage"
    assert page_groups(page) == api_groups(document)
    assert [g["name"] for g in document["groups"]] == ["Core services", "Edge", "Data", None]
    assert page_group_names(page) == ["Core services", "Edge", "Data", "Other services"]
    assert [m[0] for m in page_groups(page)[0]] == ["api", "web"]


async def test_page_and_api_agree_on_the_open_incidents_their_causes_and_updates(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    page, document, _, _ = await surfaces(client)

    shown, told = page_incidents(page), api_incidents(document)
    assert [i["heading"] for i in shown] == [i["heading"] for i in told]
    assert [i["updates"] for i in shown] == [i["updates"] for i in told]
    for on_page, in_api in zip(shown, told, strict=True):
        cause = in_api["cause"]
        assert (f"Cause: {cause}." in on_page["line"]) if cause else "Cause:" not in on_page["line"]
    declared = told[0]
    assert declared["updates"] == [f"Identified {SECOND_WORDS}", f"Investigating {FIRST_WORDS}"]
    assert told[1] == {"heading": "Website is down", "cause": "Unexpected response", "updates": []}


async def test_page_and_api_agree_on_the_current_announcements_only(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    page, document, _, _ = await surfaces(client)

    told = [(a["severity"], a["title"], a["body"]) for a in document["announcements"]]
    assert page_announcements(page) == told
    assert told == [("minor", NOW_ANNOUNCED["title"], NOW_ANNOUNCED["body"])]


async def test_the_private_monitor_appears_on_no_surface(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    page, document, html, feed = await surfaces(client)

    listed = {m["id"] for g in document["groups"] for m in g["monitors"]}
    assert PRIVATE[0] not in listed
    assert all(PRIVATE[0] != i["monitor_id"] for i in document["incidents"])
    assert f'id="m-{PRIVATE[0]}"' not in html
    for text in (html, str(document), str(feed)):
        assert PRIVATE[1] not in text
        assert "admin.corp.acme.test" not in text
    assert {m.attrs["id"] for m in page.all("li", "mon")} == {f"m-{i}" for i in listed}


async def test_the_feed_tells_the_open_incidents_as_the_api_does(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    _, document, _, feed = await surfaces(client)

    # Entry ids end in `incident/<id>` and `incident/<id>/update/<n>` (the n-th written, from 1).
    entries = {item["id"].split(":")[-1]: item for item in feed["items"]}
    for incident in document["incidents"]:
        entry = entries[f"incident/{incident['id']}"]
        assert incident["title"] in entry["title"]
        if incident["cause"] is not None:
            assert f"Cause: {incident['cause']}." in entry["content_text"]
        written = [
            entries[f"incident/{incident['id']}/update/{n}"]
            for n in range(1, len(incident["updates"]) + 1)
        ]
        assert [e["content_text"] for e in written] == [u["body"] for u in incident["updates"]]
