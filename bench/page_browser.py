"""`python -m bench browser`: the status page as a phone's browser gets it, at 6, 100 and 1,000
monitors (bench/page_seed.py, 90 days of incidents, one open incident, a daily maintenance
window): HTML bytes, DOM elements counted by headless Chromium, and Lighthouse's scores and
Total Blocking Time (mobile emulation). Needs `chromium` and `make lighthouse`."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import httpx

from bench.page_bench import NOW
from bench.page_seed import bench_config, seed

SIZES = (6, 100, 1_000)
DAILY = "0 3 * * *"
LIGHTHOUSE = Path(__file__).parent.parent / ".lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM_FLAGS = "--headless --no-sandbox --disable-gpu"


class _Count(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements += 1


async def _run(*args: str, env: dict[str, str] | None = None) -> bytes:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=env
    )
    out, _ = await process.communicate()
    return out


async def measure(monitors: int, work: Path) -> dict[str, object]:
    from tests.store_helpers import on_uvicorn

    from upwatch.runtime.health import Health
    from upwatch.runtime.settings import Settings
    from upwatch.store.database import create_engine, database_url
    from upwatch.web.app import create_app
    from upwatch.web.context import AppContext

    path = work / f"page-{monitors}.db"
    await seed(
        str(path), monitors, 90, NOW, open_every=1_000, maintenance_cron=DAILY, rollup_days=1
    )
    engine = create_engine(database_url({"DATABASE_URL": f"sqlite:///{path}"}))
    ctx = AppContext(
        Settings.from_env({}),
        Health(config_loaded=True, migrated=True),
        bench_config(monitors, DAILY),
        engine=engine,
        clock=lambda: NOW,
    )
    chromium = shutil.which("chromium") or "chromium"
    try:
        async with on_uvicorn(create_app(ctx)) as url:
            async with httpx.AsyncClient(timeout=120) as client:
                page = await client.get(f"{url}/", headers={"accept-encoding": "identity"})
                wire = await client.get(f"{url}/")
            dom = await _run(
                chromium,
                *CHROMIUM_FLAGS.split(),
                f"--user-data-dir={work / 'c'}",
                "--dump-dom",
                f"{url}/",
            )
            report = work / f"lh-{monitors}.json"
            await _run(
                str(LIGHTHOUSE),
                f"{url}/",
                "--quiet",
                "--output=json",
                f"--output-path={report}",
                f"--chrome-flags={CHROMIUM_FLAGS}",
                env={**os.environ, "CHROME_PATH": chromium},
            )
    finally:
        await engine.dispose()
    count = _Count()
    count.feed(dom.decode())
    found = json.loads(report.read_text())
    scores = {k: round(v["score"] * 100) for k, v in found["categories"].items()}
    tbt = found["audits"]["total-blocking-time"]["numericValue"]
    return {
        "monitors": monitors,
        "html_bytes": len(page.content),
        "gzip_bytes": int(wire.headers.get("content-length", 0)),
        "dom_elements": count.elements,
        "tbt_ms": round(tbt),
        **scores,
    }


def report(rows: list[dict[str, object]]) -> str:
    lines = [
        "| monitors | HTML | gzip | DOM elements | performance | TBT | accessibility "
        "| best practices | SEO |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['monitors']:,} | {r['html_bytes']:,} B | {r['gzip_bytes']:,} B "
            f"| {r['dom_elements']:,} | {r['performance']} | {r['tbt_ms']} ms "
            f"| {r['accessibility']} | {r['best-practices']} | {r['seo']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    if not LIGHTHOUSE.exists() or shutil.which("chromium") is None:
        print("needs chromium and Lighthouse (`make lighthouse`)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as work:
        rows = [asyncio.run(measure(n, Path(work))) for n in SIZES]
    print(report(rows))
    return 0
