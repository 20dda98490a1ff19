"""`python -m bench browser`: the status page as a phone's browser gets it, at 6, 100 and 1,000
monitors (bench/page_seed.py, 90 days of incidents, one open incident, a daily maintenance
window): HTML bytes, DOM elements counted by headless Chromium, and Lighthouse's scores and
Total Blocking Time (mobile emulation). Needs `chromium` and `make lighthouse`.

Lighthouse's performance score and TBT vary from run to run on a small VM, so `--runs N` runs it
N times per size against the same server and reports each run and the median of every figure;
`--keep DIR` keeps the reports (the main-thread breakdown says where the time went)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
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


async def measure(monitors: int, work: Path, runs: int = 1) -> list[dict[str, object]]:
    """`runs` Lighthouse runs (and DOM counts) of the seeded page of `monitors` monitors."""
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
    try:
        async with on_uvicorn(create_app(ctx)) as url:
            async with httpx.AsyncClient(timeout=120) as client:
                page = await client.get(f"{url}/", headers={"accept-encoding": "identity"})
                wire = await client.get(f"{url}/")
            sizes = {
                "monitors": monitors,
                "html_bytes": len(page.content),
                "gzip_bytes": int(wire.headers.get("content-length", 0)),
            }
            return [
                {**sizes, **await _one_run(url, work / f"lh-{monitors}-{n}")} for n in range(runs)
            ]
    finally:
        await engine.dispose()


async def _one_run(url: str, stem: Path) -> dict[str, object]:
    """DOM elements as Chromium builds them, then one Lighthouse report (kept as `stem`.json)."""
    chromium = shutil.which("chromium") or "chromium"
    dom = await _run(
        chromium, *CHROMIUM_FLAGS.split(), f"--user-data-dir={stem}-c", "--dump-dom", f"{url}/"
    )
    report = stem.with_suffix(".json")
    await _run(
        str(LIGHTHOUSE),
        f"{url}/",
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        f"--chrome-flags={CHROMIUM_FLAGS}",
        env={**os.environ, "CHROME_PATH": chromium},
    )
    count = _Count()
    count.feed(dom.decode())
    found = json.loads(report.read_text())
    scores = {k: round(v["score"] * 100) for k, v in found["categories"].items()}
    audits = found["audits"]
    tbt = audits["total-blocking-time"]["numericValue"]
    # Main-thread work (style, layout, paint, parsing) varies less from run to run than TBT.
    work = sum(i["duration"] for i in audits["mainthread-work-breakdown"]["details"]["items"])
    return {"dom_elements": count.elements, "tbt_ms": round(tbt), "main_ms": round(work), **scores}


def median(rows: list[dict[str, object]]) -> dict[str, object]:
    """Each figure's median over runs of one size (the low median: always a measured value)."""
    return {
        key: statistics.median_low([r[key] for r in rows])  # type: ignore[type-var]
        for key in rows[0]
    }


def report(rows: list[dict[str, object]]) -> str:
    lines = [
        "| monitors | HTML | gzip | DOM elements | performance | TBT | main thread "
        "| accessibility | best practices | SEO |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['monitors']:,} | {r['html_bytes']:,} B | {r['gzip_bytes']:,} B "
            f"| {r['dom_elements']:,} | {r['performance']} | {r['tbt_ms']} ms | {r['main_ms']} ms "
            f"| {r['accessibility']} | {r['best-practices']} | {r['seo']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench browser", description=__doc__)
    parser.add_argument(
        "--sizes", default=",".join(map(str, SIZES)), help="monitor counts, comma-separated"
    )
    parser.add_argument("--runs", type=int, default=1, help="Lighthouse runs per size (median)")
    parser.add_argument("--keep", type=Path, help="copy the Lighthouse reports into this folder")
    args = parser.parse_args(argv)
    if not LIGHTHOUSE.exists() or shutil.which("chromium") is None:
        print("needs chromium and Lighthouse (`make lighthouse`)", file=sys.stderr)
        return 1
    sizes = [int(n) for n in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as work:
        runs = [asyncio.run(measure(n, Path(work), args.runs)) for n in sizes]
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for report_file in Path(work).glob("lh-*.json"):
                shutil.copy(report_file, args.keep)
    if args.runs > 1:
        print("Each run:\n" + report([r for size in runs for r in size]) + "\n\nMedian:")
    print(report([median(size) for size in runs]))
    return 0
