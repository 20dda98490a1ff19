"""structlog setup: JSON lines for machines, console for people.

upwatch's own events are redacted at the source (they carry ids, redacted causes and error kinds,
never a config value with a secret in it). Library loggers that print full URLs (httpx, httpcore)
are silenced below warning, because a probed URL or a webhook URL may carry a credential. What
still comes from a library (an exception's text) passes a last-resort filter that knows the
escaped forms a secret takes in such text: URL-encoded, HTML-escaped, JSON-escaped.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

from upwatch.config.shown import escaped_forms

QUIET_LOGGERS = ("httpx", "httpcore", "uvicorn.access", "aiosqlite", "asyncio")
# APScheduler warns on every run skipped because the previous probe of that monitor is still in
# flight: that is the intended "never two probes at once" (on an overloaded machine, tens of
# thousands of lines a minute), counted on /metrics and warned about once; only errors pass.
SILENT_LOGGERS = ("apscheduler",)


MIN_SCRUBBED = 4  # shorter values would blank out unrelated words and hide nothing


class _Scrub:
    """A last-resort structlog processor: every known secret, in any of its escaped forms,
    replaced in every string value (a library's exception text may quote a URL)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms = {f for s in secrets if len(s) >= MIN_SCRUBBED for f in escaped_forms(s)}
        self.secrets = sorted(forms, key=len, reverse=True)

    def __call__(
        self, _logger: Any, _name: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if self.secrets:
            for key, value in event.items():
                if isinstance(value, str):
                    event[key] = self.scrub(value)
        return event

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "********")
        return text


class _LinePrinter(structlog.PrintLogger):
    """Each line in one write to the current stdout. `print` writes the message and the newline
    apart; workers share stdout, and with PYTHONUNBUFFERED (the image sets it) one worker's line
    would land in the middle of another's."""

    def msg(self, message: str) -> None:
        out = sys.stdout  # looked up per line: tests swap it
        with self._lock:
            out.write(message + "\n")
            out.flush()

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg


def configure_logging(level: str, fmt: str, secrets: Iterable[str] = ()) -> None:
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    renderer: Any = (
        structlog.dev.ConsoleRenderer() if fmt == "console" else structlog.processors.JSONRenderer()
    )
    stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
    finish = [structlog.processors.format_exc_info, _Scrub(secrets), renderer]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            stamp,
            *finish,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=lambda *_args: _LinePrinter(),
        cache_logger_on_first_use=False,
    )
    # Libraries log through the standard library (uvicorn's errors, asyncio's "task exception
    # was never retrieved"): the same lines, the same scrubbing, on the same stream.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, _add_level, stamp],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *finish],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(max(numeric, logging.WARNING))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in SILENT_LOGGERS:  # skipped runs are counted in upwatch_probe_slots_skipped
        logging.getLogger(name).setLevel(logging.ERROR)


def _add_level(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    record = event.get("_record")
    if record is not None:
        event["level"] = record.levelname.lower()
    return event
