"""The status page at 1,000 monitors in a real browser: 20 groups of 50, one open incident, one
current announcement and a daily maintenance window (bench/page_seed.py, 90 days of incidents).

Headless Chromium loads it from the real server and must find it small enough for a phone (fewer
than 15,000 elements), with every bar's words on a keyboard-focusable element; pressing Tab in a
phone-sized window reaches the runs of a row the page has not laid out yet (its rows below the
fold wait for content-visibility) and shows their words. Lighthouse (from
`.lighthouse/`, installed by `make lighthouse`) then gates accessibility, best practices and SEO;
its performance score is a benchmark figure (docs/benchmarks.md), not a gate. Under CI=true a
missing Chromium or Lighthouse fails the run; elsewhere these tests are skipped.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from bench.page_bench import NOW
from bench.page_seed import bench_config, seed

from tests.store_helpers import on_uvicorn
from tests.test_browser import CHROMIUM_FLAGS, chromium, run_chromium
from upwatch.runtime.health import Health
from upwatch.runtime.settings import Settings
from upwatch.store.database import create_engine, database_url
from upwatch.web.app import create_app
from upwatch.web.context import AppContext

pytestmark = pytest.mark.slow
MONITORS = 1_000
DAILY = "0 3 * * *"
MAX_ELEMENTS = 15_000
LIGHTHOUSE = Path(__file__).parent.parent / ".lighthouse" / "node_modules" / ".bin" / "lighthouse"
GATES = {"accessibility": 0.95, "best-practices": 1.0, "seo": 0.95}


@pytest.fixture
async def large(tmp_path: Path) -> AsyncIterator[str]:
    """The 1,000-monitor page on the daemon's HTTP server; yields its base URL."""
    path = tmp_path / "large.db"
    await seed(
        str(path), MONITORS, 90, NOW, open_every=MONITORS, maintenance_cron=DAILY, rollup_days=1
    )
    engine = create_engine(database_url({"DATABASE_URL": f"sqlite:///{path}"}))
    ctx = AppContext(
        Settings.from_env({}),
        Health(config_loaded=True, migrated=True),
        bench_config(MONITORS, DAILY),
        engine=engine,
        clock=lambda: NOW,
    )
    try:
        async with on_uvicorn(create_app(ctx)) as url:
            yield url
    finally:
        await engine.dispose()


class Elements(HTMLParser):
    """Counts elements, and the bars' runs: focusable, with their words inside."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.runs = 0
        self.focusable_runs = 0
        self.tips: list[str] = []
        self._in_tip = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.count += 1
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if "run" in classes:
            self.runs += 1
            self.focusable_runs += found.get("tabindex") == "0"
        self._in_tip = "tip" in classes

    def handle_data(self, data: str) -> None:
        if self._in_tip:
            self.tips.append(data)
            self._in_tip = False


async def test_a_thousand_monitors_make_a_page_a_phone_can_open(large: str, tmp_path: Path) -> None:
    dom = await run_chromium(tmp_path, "--dump-dom", "--window-size=390,844", f"{large}/")
    parsed = Elements()
    parsed.feed(dom)

    assert "<h2>Partial outage</h2>" in dom
    assert dom.index("Ongoing incidents") < dom.index("Announcements and maintenance")
    assert dom.index("Announcements and maintenance") < dom.index('<h2 class="sec">Services')
    assert dom.count("Scheduled</span>Patching") == 1  # a daily window: one entry
    assert parsed.count < MAX_ELEMENTS, parsed.count
    assert '<a href="/groups/group-01">Group 01</a>' in dom  # a quiet group: one row
    assert ">Service 0051</a>" not in dom  # ...without its members
    assert ">Service 0005</a>" in dom  # the group with the open incident, in full
    assert parsed.runs > 0
    assert parsed.focusable_runs == parsed.runs  # every bar's words reachable by keyboard
    assert len(parsed.tips) == parsed.runs
    assert all(tip[:4] == "2026" and ": " in tip for tip in parsed.tips)


async def test_a_quiet_group_has_its_own_page_with_every_member(large: str, tmp_path: Path) -> None:
    dom = await run_chromium(tmp_path, "--dump-dom", f"{large}/groups/group-01")

    assert "<h1>Group 01</h1>" in dom
    assert all(f">Service {i:04d}</a>" in dom for i in range(50, 100) if i % 40 != 7)


def lighthouse() -> Path:
    chromium()
    if not LIGHTHOUSE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Lighthouse is required under CI=true (`make lighthouse` installs it)")
        pytest.skip("Lighthouse is not installed (`make lighthouse`, with npm)")
    return LIGHTHOUSE


async def test_lighthouse_accessibility_best_practices_and_seo(large: str, tmp_path: Path) -> None:
    report = tmp_path / "lighthouse.json"
    process = await asyncio.create_subprocess_exec(
        str(lighthouse()),
        f"{large}/",
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        "--only-categories=accessibility,best-practices,seo,performance",
        f"--chrome-flags=--headless --no-sandbox --disable-gpu --user-data-dir={tmp_path / 'lh'}",
        env={**os.environ, "CHROME_PATH": shutil.which("chromium") or ""},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(240):
        _, err = await process.communicate()
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    found = json.loads(report.read_text())
    scores = {name: c["score"] for name, c in found["categories"].items()}
    failing = {
        a["id"]: a.get("title")
        for a in found["audits"].values()
        if a.get("score") is not None and a["score"] < 1 and a.get("scoreDisplayMode") == "binary"
    }

    for category, lowest in GATES.items():
        assert scores[category] >= lowest, (category, scores, failing)


class DevTools:
    """Chromium driven through its DevTools protocol on a pipe (`--remote-debugging-pipe`, the
    browser reads fd 3 and writes fd 4): the test presses keys and asks where the focus went. The
    page itself still runs no script."""

    def __init__(self, profile: Path) -> None:
        to_browser, self._send = os.pipe()
        self._receive, from_browser = os.pipe()
        binary = chromium()
        args = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe"]
        self.pid = os.posix_spawn(
            binary,
            args,
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, to_browser, 3),
                (os.POSIX_SPAWN_DUP2, from_browser, 4),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
            ],
        )
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._ids = 0
        self.session: str | None = None

    def close(self) -> None:
        os.close(self._send)
        os.close(self._receive)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Sends one command (to the page once attached) and returns its result."""
        self._ids += 1
        message: dict[str, Any] = {"id": self._ids, "method": method, "params": params}
        if self.session is not None and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self._send, json.dumps(message).encode() + b"\0")
        while True:
            found = self._next()
            if found.get("id") == self._ids:
                assert "error" not in found, found
                result: dict[str, Any] = found["result"]
                return result

    def wait_for(self, event: str) -> None:
        while self._next().get("method") != event:
            pass

    def _next(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._receive, 1 << 16)
            assert chunk, "chromium closed its DevTools pipe"
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        found: dict[str, Any] = json.loads(message)
        return found

    def open_phone_page(self, url: str) -> None:
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=412,
            height=823,
            deviceScaleFactor=1,
            mobile=True,
        )
        self.call("Page.enable")
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def value(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)[
            "result"
        ].get("value")

    def press_tab(self) -> None:
        for kind in ("keyDown", "keyUp"):
            self.call(
                "Input.dispatchKeyEvent", type=kind, key="Tab", code="Tab", windowsVirtualKeyCode=9
            )


LAST_ROW = "document.querySelector('.mons .mon:last-child')"
DRAWN = "(e => e.checkVisibility({contentVisibilityAuto: true}))"
FOCUSED_RUN_ROW = (
    "(e => e.classList.contains('run') ? e.closest('.mon').id : null)(document.activeElement)"
)
FOCUSED_TIP = """(() => {
  const run = document.activeElement, tip = run.querySelector('.tip');
  const box = tip.getBoundingClientRect();
  return {row: run.closest('.mon')?.id, run: run.classList.contains('run'), words: tip.textContent,
          width: box.width, top: box.top, bottom: box.bottom, height: innerHeight};
})()"""


def tab_to_the_last_rows_bars(url: str, profile: Path) -> tuple[bool, dict[str, Any], bool]:
    """(were the last row's bars drawn before, what the focused run shows, are they drawn now)."""
    browser = DevTools(profile)
    try:
        browser.open_phone_page(url)
        last = browser.value(f"{LAST_ROW}.id")
        drawn_before = browser.value(f"{DRAWN}({LAST_ROW}.querySelector('.bars'))")
        for _ in range(2_000):  # about 8 stops a row, 48 rows in the open group
            browser.press_tab()
            if browser.value(FOCUSED_RUN_ROW) == last:
                break
        focused = browser.value(FOCUSED_TIP)
        drawn_after = browser.value(f"{DRAWN}({LAST_ROW}.querySelector('.bars'))")
        return drawn_before, focused, drawn_after
    finally:
        browser.close()


async def test_a_bar_far_below_the_fold_is_drawn_and_its_words_shown_when_tabbed_to(
    large: str, tmp_path: Path
) -> None:
    """Rows below the fold are not laid out (content-visibility), yet tabbing to a run of days
    in the last row of the open group draws the row, scrolls it into view and shows the run's
    words over the bars."""
    async with asyncio.timeout(120):
        drawn_before, focused, drawn_after = await asyncio.to_thread(
            tab_to_the_last_rows_bars, f"{large}/", tmp_path / "devtools"
        )

    assert drawn_before is False  # skipped until needed: the page's layout stays small
    assert focused["run"]
    assert focused["row"] == "m-m0049"  # the open group's last public monitor
    assert focused["words"].startswith("2026-")
    assert ": " in focused["words"]
    assert focused["width"] > 100  # the words are shown over the bars, not clipped to 1 px
    assert 0 <= focused["top"] < focused["bottom"] <= focused["height"]
    assert drawn_after is True
