"""Commands that need the daemon's storage: placeholders until the daemon lands."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from upwatch.errors import UpwatchError


def _not_yet(args: argparse.Namespace) -> int:
    raise UpwatchError(f"`upwatch {args.command}` is not available in this build yet")


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": _not_yet,
    "notify-test": _not_yet,
    "migrate": _not_yet,
    "status": _not_yet,
}
