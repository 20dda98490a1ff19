"""A stop that comes while a config reload runs lets the reload finish rather than cut its
database transaction short (on SQLite a write cut short there kept the lock from the other
workers, and their shutdown hung until the hard exit)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.store_helpers import config, http
from upwatch.runtime.daemon import Daemon
from upwatch.runtime.settings import Settings


class SlowReload:
    """A service whose reload takes a while, and says whether it got to its end."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.finished = False

    async def reload(self, loaded: Any) -> None:
        self.started.set()
        await asyncio.sleep(0.3)
        self.finished = True


async def test_a_stop_during_a_reload_waits_for_it_to_finish(tmp_path: Any) -> None:
    loaded = config(http("api"))
    path = tmp_path / "monitors.yaml"
    path.write_text("version: 1\nmonitors: []\n", encoding="utf-8")
    daemon = Daemon(loaded, Settings.from_env({"PORT": "18199", "HOST": "127.0.0.1"}))
    daemon.loaded = type(loaded)(loaded.config, str(path), loaded.digest, loaded.secrets)
    service = SlowReload()
    reloading = asyncio.create_task(daemon._reloads(service))  # type: ignore[arg-type]
    daemon.reload.set()
    await asyncio.wait_for(service.started.wait(), 5)

    daemon.stop.set()
    await daemon._reload_done(5.0)
    assert service.finished
    reloading.cancel()
    await asyncio.gather(reloading, return_exceptions=True)
