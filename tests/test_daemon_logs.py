"""The daemon's log output: JSON lines on stdout, library lines included, secrets scrubbed.

Logging is process-wide state, so each case configures it in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

SECRET = "s3cret-Vq72Lw"


def run_logging(body: str) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent(
        f"""\
        import logging
        import structlog
        from upwatch.runtime.logs import configure_logging
        configure_logging("info", "json", {{"{SECRET}"}})
        """
    ) + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )


def test_library_errors_are_json_lines_with_their_traceback_and_no_secret() -> None:
    done = run_logging(
        f"""\
        try:
            raise ValueError("cannot reach https://user:{SECRET}@example.test/")
        except ValueError:
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
        logging.getLogger("httpx").info("HTTP Request: GET https://x.test/?token={SECRET}")
        structlog.get_logger("upwatch").warning("ours", url="https://x.test/{SECRET}")
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(e["event"], e["level"]) for e in lines] == [
        ("Exception in ASGI application", "error"),
        ("ours", "warning"),  # httpx below warning stays quiet: it logs full URLs
    ]
    assert lines[0]["logger"] == "uvicorn.error"
    assert "ValueError: cannot reach https://user:********@example.test/" in lines[0]["exception"]
    assert SECRET not in done.stdout
