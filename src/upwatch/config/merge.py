"""`defaults` merged into each monitor, and keys that do not apply to a monitor's type dropped.

Rules: a monitor's own keys win; `expect` merges key by key (a monitor's `expect.status`
replaces the default list); `null` removes a default key. A heartbeat does not inherit
`recovery_threshold`: it recovers on one check-in unless it sets its own. Keys that belong to
another monitor type (an HTTP expectation on a tcp monitor) are ignored; keys no type knows are
left for the models to reject, so typos never pass. Every merged key remembers the path it came
from, for error positions.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from upwatch.config.models import EXPECT_TYPES, MONITOR_TYPES
from upwatch.config.source import Path


def _aliases(model: type[Any]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


MONITOR_KEYS = {t: _aliases(m) for t, m in MONITOR_TYPES.items()}
ALL_MONITOR_KEYS = set().union(*MONITOR_KEYS.values())
EXPECT_KEYS = {t: _aliases(m) if m else set() for t, m in EXPECT_TYPES.items()}
ALL_EXPECT_KEYS = set().union(*EXPECT_KEYS.values())
NOT_DEFAULTABLE = {
    "id": "ids are unique per monitor; it has no default",
    # A default would make every monitor depend on the parent, the parent on itself included.
    "depends_on": "dependencies are per monitor; it has no default",
}
# By type: only the monitor's own applies (a heartbeat is not probed, so has no regions).
NOT_INHERITED = {"heartbeat": {"recovery_threshold", "regions", "confirm"}}
DEFAULTABLE = ALL_MONITOR_KEYS - NOT_DEFAULTABLE.keys()


@dataclass(slots=True)
class Origins:
    """For each monitor index, where each merged key (or expect key) was written."""

    by_monitor: dict[int, dict[Path, Path]] = field(default_factory=dict)

    def source(self, path: Path) -> Path:
        """Map `monitors.i.key...` to the path the value was written at (maybe `defaults.key`)."""
        if len(path) < 3 or path[0] != "monitors" or not isinstance(path[1], int):
            return path
        origins = self.by_monitor.get(path[1], {})
        for depth in (4, 3):
            if len(path) >= depth and path[2:depth] in origins:
                return origins[path[2:depth]] + path[depth:]
        return path


def merge_monitors(document: dict[str, Any]) -> tuple[dict[str, Any], Origins]:
    """Return a copy of `document` whose monitors carry their defaults, and where keys came from."""
    merged = dict(document)
    defaults = document.get("defaults")
    merged.pop("defaults", None)
    monitors = document.get("monitors")
    origins = Origins()
    if not isinstance(monitors, list):
        return merged, origins
    base = defaults if isinstance(defaults, dict) else {}
    merged["monitors"] = [
        _merge_one(base, monitor, i, origins) if isinstance(monitor, dict) else monitor
        for i, monitor in enumerate(monitors)
    ]
    return merged, origins


def _merge_one(defaults: dict[str, Any], monitor: dict[str, Any], i: int, origins: Origins) -> Any:
    where: dict[Path, Path] = {}
    result: dict[str, Any] = {}
    for key, value in _usable(defaults).items():
        result[key] = copy.deepcopy(value)
        where[(key,)] = ("defaults", key)
    for key, value in monitor.items():
        if key == "expect" and isinstance(value, dict) and isinstance(result.get(key), dict):
            _merge_expect(result[key], value, i, where)
        elif value is None and key in defaults:
            result.pop(key, None)
        else:
            result[key] = value
            where[(key,)] = ("monitors", i, key)
    for key in NOT_INHERITED.get(str(result.get("type", "http")), set()):
        if where.get((key,), ()) == ("defaults", key):
            result.pop(key)
            where.pop((key,))
    origins.by_monitor[i] = where
    return _drop_inapplicable(result)


def _usable(defaults: dict[str, Any]) -> dict[str, Any]:
    """The defaults a monitor can inherit: keys `check_defaults` rejects are reported once there."""
    usable = {k: v for k, v in defaults.items() if k in DEFAULTABLE}
    expect = usable.get("expect")
    if isinstance(expect, dict):
        usable["expect"] = {k: v for k, v in expect.items() if k in ALL_EXPECT_KEYS}
    return usable


def _merge_expect(
    expect: dict[str, Any], own: dict[str, Any], i: int, where: dict[Path, Path]
) -> None:
    for key in expect:
        where[("expect", key)] = ("defaults", "expect", key)
    for key, value in own.items():
        if value is None:
            expect.pop(key, None)
        else:
            expect[key] = value
            where[("expect", key)] = ("monitors", i, "expect", key)


def _drop_inapplicable(monitor: dict[str, Any]) -> dict[str, Any]:
    kind = monitor.get("type", "http")
    if not isinstance(kind, str) or kind not in MONITOR_KEYS:
        return monitor  # the models report the unknown type
    keys = MONITOR_KEYS[kind]
    kept = {k: v for k, v in monitor.items() if k in keys or k not in ALL_MONITOR_KEYS}
    expect = kept.get("expect")
    if isinstance(expect, dict):
        allowed = EXPECT_KEYS[kind]
        kept["expect"] = {
            k: v for k, v in expect.items() if k in allowed or k not in ALL_EXPECT_KEYS
        }
    return kept


def check_defaults(defaults: Any) -> list[tuple[Path, str]]:
    """Problems in `defaults` that merging would hide (keys no monitor type knows)."""
    if defaults is None:
        return []
    if not isinstance(defaults, dict):
        return [(("defaults",), "must be a mapping of monitor keys to default values")]
    problems: list[tuple[Path, str]] = []
    for key, value in defaults.items():
        if key in NOT_DEFAULTABLE:
            problems.append((("defaults", key), NOT_DEFAULTABLE[key]))
        elif key not in ALL_MONITOR_KEYS:
            problems.append((("defaults", key), unknown_key_message(key, DEFAULTABLE)))
        elif key == "expect" and isinstance(value, dict):
            problems.extend(
                (("defaults", "expect", k), unknown_key_message(k, ALL_EXPECT_KEYS))
                for k in value
                if k not in ALL_EXPECT_KEYS
            )
    return problems


def unknown_key_message(key: str, allowed: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, sorted(allowed), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    listed = f" (allowed here: {', '.join(sorted(allowed))})" if allowed else ""
    return f"unknown key '{key}'{hint}{listed}"
