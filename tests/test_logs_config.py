"""What the daemon's log lets through from libraries."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

from upwatch.runtime.logs import configure_logging


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers, root.level = handlers, level
    structlog.reset_defaults()


@pytest.mark.usefixtures("restored_logging")
def test_apscheduler_skip_warnings_stay_out_and_its_errors_come_through(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("info", "json", set())
    scheduler = logging.getLogger("apscheduler.scheduler")
    scheduler.warning("Execution of job m1 skipped: maximum number of running instances reached")
    scheduler.error("Job m2 raised an exception")
    out = capsys.readouterr().out
    assert "skipped" not in out
    assert "Job m2 raised an exception" in out
