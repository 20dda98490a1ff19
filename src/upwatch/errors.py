"""Errors that end a command with a clear one-line message instead of a traceback."""

from __future__ import annotations


class UpwatchError(Exception):
    """A failure to report to the user as one line; `exit_code` follows the CLI contract."""

    exit_code = 1
    located = False  # True when the message already says where (FILE:LINE:COL), so no prefix


class UsageError(UpwatchError):
    exit_code = 2
