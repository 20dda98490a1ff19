"""`expect.json`: dotted paths into a JSON body compared with YAML-typed values."""

from __future__ import annotations

import json
import re
from typing import Any

from upwatch.probes.outcome import Cause, quoted

_MISSING = object()
_BRACKET_INDEX = re.compile(r"\[(\d+)\]")
NOT_JSON = Cause.plain("response is not JSON")


def parse_json(body: bytes) -> Any:
    """The document, or `_MISSING` when the body is not JSON (too deep counts as not JSON)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return _MISSING


def json_paths_failure(body: bytes, paths: dict[str, Any]) -> Cause | None:
    document = parse_json(body)
    if document is _MISSING:
        return NOT_JSON
    for path, expected in paths.items():
        parts = _parts(path)
        label = "$." + ".".join(parts)
        actual = lookup(document, parts)
        if actual is _MISSING:
            return Cause.plain(f"{label} missing")
        if not same_value(actual, expected):
            return Cause.plain(f"{label} was {quoted(actual)}, expected {quoted(expected)}")
    return None


def _parts(path: str) -> list[str]:
    """`checks.database`, `$.checks.database` and `items[0].id` / `items.0.id` all work."""
    if "[" in path:
        path = _BRACKET_INDEX.sub(r".\1", path)
    return [part for part in path.removeprefix("$").split(".") if part]


def lookup(document: Any, parts: list[str]) -> Any:
    node = document
    for part in parts:
        if isinstance(node, dict):
            node = node.get(part, _MISSING)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
        if node is _MISSING:
            return node
    return node


def same_value(actual: Any, expected: Any) -> bool:
    """Equality as the YAML reads: `true` is not `1`, `200` is not `"200"`, `1` is `1.0`."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    return bool(actual == expected)
