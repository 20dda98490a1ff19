"""`body_regex` patterns, compiled with RE2: matching time grows linearly with the body.

Python's `re` backtracks, so a pattern like `(a+)+$` against a large body can run for hours on the
event loop. RE2 refuses the features that need backtracking (backreferences, lookaround) instead;
those refusals are config errors, written here with where in the pattern RE2 stopped.
Syntax: https://github.com/google/re2/wiki/Syntax
"""

from __future__ import annotations

from typing import Protocol

import re2

SYNTAX_URL = "https://github.com/google/re2/wiki/Syntax"

# RE2 logs each refused pattern to stderr (through absl) unless told not to; we report it ourselves.
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False

# RE2 reports `description: fragment`; some descriptions deserve a word on what to write instead.
_HINTS = {
    "(?=": "lookahead is not supported",
    "(?!": "negative lookahead is not supported",
    "(?<=": "lookbehind is not supported",
    "(?<!": "negative lookbehind is not supported",
    "(?P=": "backreferences are not supported",
    "(?P>": "recursion is not supported",
    "\\Z": "write \\z for the end of the body",
}
_LONGEST_SHOWN = 12  # a fragment longer than this is not repeated: the position says enough


class Matcher(Protocol):
    def search(self, text: str) -> object | None: ...


class RegexError(ValueError):
    """A pattern RE2 cannot compile; the message says what and where, for a person."""


def compile_re2(pattern: str) -> Matcher:
    try:
        compiled: Matcher = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        raise RegexError(_explain(pattern, exc)) from None
    return compiled


def _explain(pattern: str, exc: Exception) -> str:
    raw = exc.args[0] if exc.args else b""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    description, _, fragment = text.partition(": ")
    what = _describe(pattern, description, fragment)
    return f"not valid RE2 syntax: {what} (body_regex uses RE2 syntax: {SYNTAX_URL})"


def _describe(pattern: str, description: str, fragment: str) -> str:
    where = _position(pattern, description, fragment)
    hint = next((h for op, h in _HINTS.items() if pattern[where - 1 :].startswith(op)), None)
    if hint is None and description == "invalid escape sequence" and fragment[1:].isdigit():
        hint = "backreferences are not supported"
    shown = fragment and fragment != pattern and len(fragment) <= _LONGEST_SHOWN
    what = f"{description} `{fragment}`" if shown else description
    at = f" at character {where}" if where else ""
    return f"{what}{at}" + (f"; {hint}" if hint else "")


def _position(pattern: str, description: str, fragment: str) -> int:
    """1-based character where RE2 stopped, or 0 when its fragment is the whole pattern.

    RE2 parses left to right and names the offending text, not its offset: an earlier copy of
    that text would have been refused first, so its first occurrence is where it stopped.
    """
    if description == "trailing \\":
        return len(pattern)
    if not fragment or fragment == pattern or fragment not in pattern:
        return 0
    if description == "missing ]" and pattern.endswith(fragment):  # from the `[` to the end
        return len(pattern) - len(fragment) + 1
    if fragment == "(?P":  # `(?P<name>` is fine: the refused one is `(?P=` or `(?P>`
        named = [i for i in range(len(pattern)) if pattern.startswith(fragment, i)]
        return next((i + 1 for i in named if not pattern.startswith("(?P<", i)), named[0] + 1)
    return pattern.index(fragment) + 1
