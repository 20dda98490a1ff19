"""Validation problems as `FILE:LINE:COL: path.to.field: message`, written for people.

pydantic's own error text repeats the input value, which may be a secret, so every message here is
built from the error's type and context only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic_core import ErrorDetails

from upwatch.config.fields import SLUG_RE, FieldError
from upwatch.config.merge import unknown_key_message
from upwatch.config.source import Mark, Path

TYPE_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "string": "text",
    "list": "a list",
    "dict": "a mapping of keys to values",
    "model": "a mapping of keys to values",
    "model_attributes": "a mapping of keys to values",
    "datetime": "a date and time such as 2026-12-01T02:00:00Z",
}
SLUG_HELP = "must be a slug: lowercase letters, digits, - and _, starting with a letter or digit"


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One thing wrong with the config, where it is, and what to do about it."""

    line: int
    col: int
    path: str
    message: str

    def render(self, filename: str, *, warning: bool = False) -> str:
        where = f"{self.path}: " if self.path else ""
        kind = "warning: " if warning else ""
        return f"{filename}:{self.line}:{self.col}: {where}{kind}{self.message}"


def dotted(path: Path) -> str:
    return ".".join(_part(part) for part in path)


def _part(part: str | int) -> str:
    # A key with spaces, dots or control characters is quoted so the line stays one readable line.
    text = str(part)
    if text and all(c.isprintable() and not c.isspace() and c not in '."' for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)


def problem_at(mark: Mark, path: Path, message: str) -> Problem:
    return Problem(mark.line, mark.col, dotted(path), " ".join(message.split()))


def message_for(error: ErrorDetails, allowed_keys: set[str] | None = None) -> str:
    """A message for one pydantic error that names the rule and never the rejected value."""
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return unknown_key_message(str(error["loc"][-1]), allowed_keys or set())
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error["msg"]))
    if kind == "string_pattern_mismatch":
        return SLUG_HELP if ctx.get("pattern") == SLUG_RE else "does not have the expected format"
    return (
        _limit_message(kind, ctx)
        or _type_message(kind)
        or _choice_message(kind, ctx)
        or (error["msg"])
    )


def _limit_message(kind: str, ctx: dict[str, Any]) -> str | None:
    limits = {
        "greater_than_equal": ("must be at least", "ge"),
        "greater_than": ("must be greater than", "gt"),
        "less_than_equal": ("must be at most", "le"),
        "less_than": ("must be less than", "lt"),
    }
    if kind in limits:
        words, key = limits[kind]
        return f"{words} {ctx.get(key)}"
    if kind == "too_short":
        least = ctx.get("min_length", 1)
        return "must not be empty" if least == 1 else f"needs at least {least} items"
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return "must not be empty" if least == 1 else f"must be at least {least} characters"
    if kind in ("too_long", "string_too_long"):
        return f"must be at most {ctx.get('max_length')} long"
    return None


def _type_message(kind: str) -> str | None:
    if kind == "int_from_float":
        return "must be a whole number"
    if kind.endswith(("_type", "_parsing")):
        words = TYPE_WORDS.get(kind.rsplit("_", 1)[0].removesuffix("_from_date"))
        return f"must be {words}" if words else None
    return None


def _choice_message(kind: str, ctx: dict[str, Any]) -> str | None:
    if kind == "literal_error":
        expected = str(ctx.get("expected"))
        return f"must be one of {expected}" if " or " in expected else f"must be {expected}"
    if kind == "union_tag_invalid":
        return f"unknown type; use one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return (
            f"missing `{ctx.get('discriminator', 'type')}`, which says what kind of entry this is"
        )
    return None


def field_error(error: ErrorDetails) -> FieldError | None:
    found = (error.get("ctx") or {}).get("error")
    return found if isinstance(found, FieldError) else None
