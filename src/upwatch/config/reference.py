"""docs/configuration.md, the reference of every monitors.yaml key, rendered from the JSON Schema.

The descriptions, types, defaults and allowed values all come from the models (through
`config_schema`), so the reference cannot drift from what `check` accepts; `reference_sections`
adds only each section's short introduction and example. Regenerate with
`python -m upwatch.config.reference > docs/configuration.md`.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import yaml
from pydantic import BaseModel

from upwatch.config import models
from upwatch.config.durations import DURATION_REGEX
from upwatch.config.fields import SLUG_RE
from upwatch.config.reference_sections import SECTIONS, Section
from upwatch.config.schema import config_schema
from upwatch.notify.channels.registry import CHANNEL_TYPES

COMMAND = "python -m upwatch.config.reference > docs/configuration.md"


_PREAMBLE = """\
# monitors.yaml reference

<!-- Generated from the config models by `{command}`;
     edit the models' descriptions, not this file. -->

Every key of `monitors.yaml` (version 1), section by section: its type, default and meaning.
`upwatch check` validates a file against exactly these rules, and `docs/monitors.schema.json` (or
`upwatch schema`) gives editors the same for completion.

- **Durations** are a number and a unit: `500ms`, `30s`, `5m`, `2h`, `14d`.
- **Sizes** are in bytes (`1048576` is 1 MiB).
- **Date-times** are ISO 8601 (`2026-12-01T02:00:00Z`); one written without an offset is UTC.
- **Names and ids** (monitor ids, channel and policy names) are slugs: lowercase letters,
  digits, `-` and `_`, starting with a letter or digit, at most 64 characters.
- **Secrets** come from the environment as `${{NAME}}` or `${{NAME:-fallback}}` (`$$` is a literal
  `$`), inside values; they never appear in any output.
- **Unknown keys are errors**, so a typo never passes silently; every reference (a channel in an
  escalation, an escalation in a monitor, a monitor in a maintenance window) must exist.
- "—" in the Default column: the key is unset unless you write it (a section's keys have their
  own defaults).
"""


def render_reference() -> str:
    """The whole of docs/configuration.md; the same text for the same models, byte for byte."""
    schema = config_schema()
    parts = [_PREAMBLE.format(command=COMMAND), _contents()]
    for section in SECTIONS:
        parts.append(_section(section, schema))
    return "\n".join(parts)


def _contents() -> str:
    lines = ["## Contents", ""]
    for section in SECTIONS:
        indent = "  " * (section.level - 2)
        lines.append(f"{indent}- [{section.title}](#{_anchor(section.title)})")
    return "\n".join(lines) + "\n"


def _anchor(title: str) -> str:
    # GitHub's rule: lowercase, drop punctuation but `-` and `_`, spaces become `-`.
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def _section(section: Section, schema: dict[str, Any]) -> str:
    heading = "#" * section.level
    out = [f"{heading} {section.title}", "", section.intro, ""]
    if section.title == "defaults":
        out += _defaults_keys(schema)
    elif section.model is not None:
        example = yaml.load(section.example, Loader=_Loader)  # noqa: S506 - a SafeLoader
        out += _table(section.model, section.skip, schema, example)
    out += ["", "```yaml", section.example.rstrip("\n"), "```", ""]
    return "\n".join(out)


def _definition(model: type[BaseModel], schema: dict[str, Any]) -> dict[str, Any]:
    if model is models.Config:
        return schema
    if model is models.MonitorBase:
        return dict(schema["$defs"]["HttpMonitor"])
    return dict(schema["$defs"][model.__name__])


def _table(
    model: type[BaseModel], skip: tuple[str, ...], schema: dict[str, Any], example: Any
) -> list[str]:
    definition = _definition(model, schema)
    required = set(definition.get("required", ()))
    rows = ["| Key | Type | Default | Description | Example |", "|---|---|---|---|---|"]
    keys = [field.alias or name for name, field in model.model_fields.items()]
    if model is models.Config:  # sections the loader reads before the models (`defaults`)
        keys += [key for key in definition["properties"] if key not in keys]
    for key in keys:
        if key in skip:
            continue
        prop = definition["properties"][key]
        default = "required" if key in required else _default(prop)
        description = prop.get("description", "")
        cells = (f"`{key}`", _type(prop), default, _cell(description), _example(key, example))
        rows.append(f"| {' | '.join(cells)} |")
    return rows


class _Loader(yaml.SafeLoader):
    """Dates stay the strings they were written as, so an example reads back as written."""


class _Dumper(yaml.SafeDumper):
    pass


for _cls in (_Loader, _Dumper):
    _cls.yaml_implicit_resolvers = {
        first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

_LONGEST_EXAMPLE = 60


def _pair(key: str, value: Any) -> str:
    # A scalar in block style needs the fewest quotes; a list or map reads best in flow style.
    if isinstance(value, dict | list):
        flow = yaml.dump(value, Dumper=_Dumper, default_flow_style=True, sort_keys=False, width=999)
        return f"{key}: {flow.strip()}"
    return yaml.dump({key: value}, Dumper=_Dumper, sort_keys=False, width=999).strip()


def _example(key: str, example: Any) -> str:
    """`key: value` as the section's example first writes it (breadth first), or a pointer to it."""
    queue = [example]
    while queue:
        node = queue.pop(0)
        if isinstance(node, dict) and key in node:
            text = _pair(key, node[key])
            short = len(text) <= _LONGEST_EXAMPLE and "\n" not in text
            return f"`{_cell(text)}`" if short else "see below"
        if isinstance(node, dict):
            queue += node.values()
        elif isinstance(node, list):
            queue += node
    return "—"


def _defaults_keys(schema: dict[str, Any]) -> list[str]:
    props = schema["properties"]["defaults"]["properties"]
    keys = ", ".join(f"`{key}`" for key in props)
    expect = ", ".join(f"`{key}`" for key in props["expect"]["properties"])
    return [f"Keys: {keys}.", "", f"Keys of `expect`: {expect}."]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(prop: dict[str, Any]) -> str:
    if "default" not in prop or prop["default"] is None:
        return "—"
    value = prop["default"]
    if isinstance(value, str):
        return f"`{value}`" if value else '`""` (empty)'
    return f"`{json.dumps(value)}`"


def _type(prop: dict[str, Any]) -> str:
    variants = [v for v in prop.get("anyOf", [prop]) if v.get("type") != "null"]
    return _cell(" or ".join(_one_type(v) for v in variants))


def _one_type(prop: dict[str, Any]) -> str:  # noqa: PLR0911 - one answer per schema shape
    if "$ref" in prop:
        return _ref_type(prop["$ref"].rsplit("/", 1)[-1])
    if "const" in prop:
        return f"`{prop['const']}`"
    if "enum" in prop:
        return "one of " + ", ".join(f"`{v}`" for v in prop["enum"])
    if "oneOf" in prop:  # the monitor and channel unions
        return "monitor" if "discriminator" not in prop else "channel"
    if prop.get("pattern") == DURATION_REGEX:
        return "duration"
    kind = prop.get("type")
    if kind in ("array", "object"):
        return _container(prop)
    return "any" if kind is None else _scalar(prop, kind)


def _container(prop: dict[str, Any]) -> str:
    if prop["type"] == "array":
        return f"list of {_plural(_type(prop.get('items', {})))}{_size(prop)}"
    if "patternProperties" in prop:
        (value,) = prop["patternProperties"].values()
        return f"map of name to {_one_type(value)}"
    if "properties" in prop:
        return "object"
    values = prop.get("additionalProperties")
    return f"map of string to {_type(values)}" if isinstance(values, dict) else "map"


# A nested section's type links to its heading; list items are named by what they are.
_REFS = {
    "HttpExpect": "expect (http)",
    "TcpExpect": "expect (tcp)",
    "DnsExpect": "expect (dns)",
    "BasicAuth": "basic_auth",
    "TlsOptions": "tls",
    "StatusPage": "status_page",
    "Notifications": "notifications",
    "Retention": "retention",
    "Subscriptions": "subscriptions",
    "Slo": "slo",
    "Flapping": "flapping",
    "SloAlerts": "slo_alerts",
}
_REFS.update(
    {
        part.__name__: title
        for t in CHANNEL_TYPES.values()
        for title, part, _, _ in t.model.doc_parts
    }
)
_ITEMS = {"EscalationStep": "step", "MaintenanceWindow": "window", "Announcement": "announcement"}


def _ref_type(name: str) -> str:
    if name in _ITEMS:
        return _ITEMS[name]
    return f"object, see [{_REFS[name]}](#{_anchor(_REFS[name])})"


_PLURALS = {
    "string": "strings",
    "integer or string": "integers or strings",
    "monitor": "monitors",
    "step": "steps",
    "window": "windows",
    "announcement": "announcements",
}


def _plural(text: str) -> str:
    return _PLURALS.get(text, text)


def _size(prop: dict[str, Any]) -> str:
    return f", at least {prop['minItems']}" if "minItems" in prop else ""


def _scalar(prop: dict[str, Any], kind: str) -> str:
    if prop.get("format") == "date-time":
        return "date-time"
    if "pattern" in prop:
        return "slug" if prop["pattern"] == SLUG_RE else f"{kind} matching `{prop['pattern']}`"
    low, high = prop.get("minimum"), prop.get("maximum")
    if low is not None and high is not None:
        return f"{kind}, {low} to {high}"
    if low is not None:
        return f"{kind}, at least {low}"
    length = prop.get("minLength"), prop.get("maxLength")
    if length[1] is not None:
        return f"{kind}, {length[0] or 0} to {length[1]} characters"
    return f"non-empty {kind}" if length[0] else kind


def example_documents() -> list[dict[str, Any]]:
    """Every section's example, parsed, in the order of SECTIONS: the tests load each one."""
    return [yaml.safe_load(section.example) for section in SECTIONS]


def main() -> int:
    sys.stdout.write(render_reference())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
