"""The JSON Schema of monitors.yaml as a user writes it (before defaults are merged).

Generated from the pydantic models (each field's docstring is its description), then adjusted for
what the loader accepts beyond them: the `defaults` section, and keys that belong to another monitor
type (ignored, so editors must not flag them as errors). Defaults are spelled as a user writes them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, NoDefault
from pydantic_core import core_schema

from upwatch.config.durations import format_duration
from upwatch.config.merge import ALL_EXPECT_KEYS, ALL_MONITOR_KEYS, NOT_DEFAULTABLE
from upwatch.config.models import Config


class _AsWritten(GenerateJsonSchema):
    """Defaults as monitors.yaml spells them: `1m`, not pydantic's `PT1M` (which the duration
    pattern rejects), and the defaults of factories too (`expect.status: ["2xx"]`, `tags: []`)."""

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        factory = schema.get("default_factory")
        if factory is None or schema.get("default_factory_takes_data"):
            return super().get_default_value(schema)
        value = factory()  # type: ignore[call-arg]
        return NoDefault if isinstance(value, BaseModel) else value  # a section: see its keys

    def encode_default(self, dft: Any) -> Any:
        if isinstance(dft, timedelta):
            return format_duration(dft) if dft else "0s"
        return super().encode_default(dft)


def config_schema() -> dict[str, Any]:
    schema = Config.model_json_schema(by_alias=True, mode="validation", schema_generator=_AsWritten)
    defs: dict[str, Any] = schema.get("$defs", {})
    for name in ("HttpMonitor", "TcpMonitor", "DnsMonitor", "HeartbeatMonitor"):
        _tolerate(defs[name], ALL_MONITOR_KEYS)
    for name in ("HttpExpect", "TcpExpect", "DnsExpect"):
        _tolerate(defs[name], ALL_EXPECT_KEYS)
    schema["properties"]["defaults"] = _defaults_schema(defs)
    schema["title"] = "upwatch monitors.yaml (version 1)"
    _one_line_descriptions(schema)
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
        "description": "Expectations merged key by key into each monitor's own `expect`; a "
        "monitor's `status` list replaces this one.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            k: v for d in ("HttpExpect", "DnsExpect") for k, v in defs[d]["properties"].items()
        },
    }
    props.pop("type", None)
    return {
        "description": "Keys merged into every monitor: a monitor's own keys win, and `null` in a "
        "monitor removes a default. Keys of another monitor type are ignored for that monitor.",
        "type": "object",
        "additionalProperties": False,
        "properties": props,
    }


def _one_line_descriptions(node: Any) -> None:
    # Docstrings wrap at the code's line length; editors show a description as one paragraph.
    if isinstance(node, dict):
        if isinstance(node.get("description"), str):
            node["description"] = " ".join(node["description"].split())
        for value in node.values():
            _one_line_descriptions(value)
    elif isinstance(node, list):
        for value in node:
            _one_line_descriptions(value)
