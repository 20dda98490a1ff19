"""Heartbeat tokens that are valid but unsafe: short ones, and the shipped example's placeholder.

Anyone who knows a monitor's token can report check-ins for it (a job that never ran would look
fine). A short token can be guessed; the example's placeholder is published with upwatch itself.
The placeholder is a warning only under `check --no-env`, where an image is built without its
secrets (the example must pass there); anywhere the real environment is read, it is an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from upwatch.config.source import Path

EXAMPLE_PLACEHOLDER = "change-me-to-a-long-random-token"  # as in the shipped monitors.yaml
MIN_SAFE_LENGTH = 16
MAX_LENGTH = 256  # the web refuses longer tokens before comparing them
HOW_TO = "use a random one such as the output of `openssl rand -hex 24`"


@dataclass(frozen=True, slots=True)
class TokenFinding:
    path: Path  # where the token is, in the merged document
    message: str
    placeholder: bool  # an error wherever the real environment is read


def token_findings(merged: dict[str, Any]) -> Iterator[TokenFinding]:
    """What is unsafe about each heartbeat monitor's token (`merged`: defaults applied)."""
    monitors = merged.get("monitors")
    for i, monitor in enumerate(monitors if isinstance(monitors, list) else []):
        if not isinstance(monitor, dict) or monitor.get("type") != "heartbeat":
            continue
        token = monitor.get("token")
        if not isinstance(token, str):
            continue  # missing or not text: validation reports it
        finding = _finding(token)
        if finding is not None:
            yield TokenFinding(("monitors", i, "token"), *finding)


def _finding(token: str) -> tuple[str, bool] | None:
    if token == EXAMPLE_PLACEHOLDER:
        message = (
            "is the placeholder from the example config, which anyone can read: "
            f"set your own token ({HOW_TO}); `upwatch run` refuses the placeholder"
        )
        return message, True
    if len(token) < MIN_SAFE_LENGTH:
        message = f"is shorter than {MIN_SAFE_LENGTH} characters and could be guessed; {HOW_TO}"
        return message, False
    return None
