"""The JSON Schema of monitors.yaml as a user writes it (before defaults are merged).

Generated from the pydantic models, then adjusted for what the loader accepts beyond them: the
`defaults` section, and keys that belong to another monitor type (ignored, so editors must not flag
them as errors).
"""

from __future__ import annotations

from typing import Any

from upwatch.config.merge import ALL_EXPECT_KEYS, ALL_MONITOR_KEYS, NOT_DEFAULTABLE
from upwatch.config.models import Config


def config_schema() -> dict[str, Any]:
    schema = Config.model_json_schema(by_alias=True, mode="validation")
    defs: dict[str, Any] = schema.get("$defs", {})
    for name in ("HttpMonitor", "TcpMonitor", "DnsMonitor", "HeartbeatMonitor"):
        _tolerate(defs[name], ALL_MONITOR_KEYS)
    for name in ("HttpExpect", "TcpExpect", "DnsExpect"):
        _tolerate(defs[name], ALL_EXPECT_KEYS)
    schema["properties"]["defaults"] = _defaults_schema(defs)
    schema["title"] = "upwatch monitors.yaml (version 1)"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _tolerate(definition: dict[str, Any], keys: set[str]) -> None:
    props = definition.setdefault("properties", {})
    for key in sorted(keys - props.keys()):
        props[key] = {"description": "belongs to another monitor type; ignored for this one"}


def _defaults_schema(defs: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name in ("HttpMonitor", "TcpMonitor", "DnsMonitor", "HeartbeatMonitor"):
        for key, value in defs[name]["properties"].items():
            if key not in NOT_DEFAULTABLE and "belongs to another" not in str(value):
                props.setdefault(key, value)
    props["expect"] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            k: v for d in ("HttpExpect", "DnsExpect") for k, v in defs[d]["properties"].items()
        },
    }
    props.pop("type", None)
    return {
        "description": "merged into every monitor; a monitor's own keys win, null removes one",
        "type": "object",
        "additionalProperties": False,
        "properties": props,
    }
