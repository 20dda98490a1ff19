"""A real browser on the real server: headless Chromium (Debian's `chromium`, driven by its
command line) loads the status page from uvicorn on 127.0.0.1 and must show the groups, monitors
and states; it also takes the screenshots people look at (set UPWATCH_SCREENSHOT_DIR to keep
them, e.g. `UPWATCH_SCREENSHOT_DIR=docs` refreshes the README's picture).

Under CI=true a missing Chromium fails the run; elsewhere the test is skipped.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import struct
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.page_data import NOW, app, demo_config, seed_demo
from tests.store_helpers import MakeHarness, on_uvicorn

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required under CI=true (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


@pytest.fixture
async def served(make_harness: MakeHarness) -> AsyncIterator[str]:
    """The showcase status page (95 days of history) on a real uvicorn; yields its base URL."""
    harness = await seed_demo(
        make_harness, demo_config(showcase=True), start=NOW - timedelta(days=95)
    )
    async with on_uvicorn(app(harness)) as url:
        yield url


async def run_chromium(tmp_path: Path, *args: str) -> str:
    profile = tmp_path / "chromium-profile"
    process = await asyncio.create_subprocess_exec(
        chromium(),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(90):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode()


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def keep(path: Path, name: str) -> None:
    target = os.environ.get("UPWATCH_SCREENSHOT_DIR")
    if target:
        shutil.copyfile(path, Path(target) / name)


async def test_the_browser_shows_groups_monitors_and_states(served: str, tmp_path: Path) -> None:
    dom = await run_chromium(tmp_path, "--dump-dom", f"{served}/")

    assert "<h2>Partial outage</h2>" in dom
    for group in ("Core services", "Edge", "Jobs"):
        assert f"<summary><h2>{group}</h2>" in dom
    for name in ("Public API", "Website", "Database", "CDN", "Legacy API", "Nightly backup"):
        assert f">{name}</a>" in dom
    for state in ("Operational", "Down", "Maintenance", "Degraded", "Paused"):
        assert f"</svg>{state}</span>" in dom
    assert '<span class="tip">2026-11-20: 99.51% up, 7m down</span>' in dom
    assert "Internal admin panel" not in dom


async def test_screenshots_of_the_page_on_a_desktop_and_a_phone(
    served: str, tmp_path: Path
) -> None:
    desktop, phone, detail = (tmp_path / n for n in ("desktop.png", "phone.png", "detail.png"))
    await run_chromium(tmp_path, f"--screenshot={desktop}", "--window-size=1280,2000", served)
    await run_chromium(tmp_path, f"--screenshot={phone}", "--window-size=390,1600", served)
    await run_chromium(
        tmp_path, f"--screenshot={detail}", "--window-size=1280,1500", f"{served}/monitors/api"
    )

    assert png_size(desktop) == (1280, 2000)
    assert png_size(phone) == (390, 1600)
    assert desktop.stat().st_size > 50_000  # a rendered page, not a blank one
    keep(desktop, "status-page.png")
    keep(phone, "status-page-phone.png")
    keep(detail, "monitor-page.png")
