"""docs/configuration.md: generated from the models, current, and every key in it described."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml

from tests.config_helpers import ConfigFiles
from upwatch.config.reference import COMMAND, example_documents, render_reference
from upwatch.config.reference_sections import SECTIONS, Section
from upwatch.config.schema import config_schema

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "configuration.md"

# What every section's example may refer to: the channels, policies and monitor the others name.
BASE: dict[str, Any] = {
    "version": 1,
    "channels": {
        "team-slack": {"type": "slack", "webhook_url": "https://hooks.slack.test/T0/B0/x"},
        "oncall-email": {
            "type": "email",
            "smtp_url": "smtp://mail.test:587",
            "from": "upwatch@example.com",
            "to": ["oncall@example.com"],
        },
        "pager": {"type": "webhook", "url": "https://hooks.example.com/upwatch"},
    },
    "escalations": {
        "default": [{"after": "0s", "notify": ["team-slack"]}],
        "critical": [{"after": "0s", "notify": ["team-slack", "pager"]}],
    },
    "monitors": [
        {"id": "database", "name": "Database", "type": "tcp", "host": "db.internal", "port": 5432}
    ],
}


def _undescribed(node: Any, path: str = "") -> list[str]:
    """The paths of schema properties without a description, wherever they are nested."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for name, prop in value.items():
                    if not str(prop.get("description", "")).strip():
                        found.append(f"{path}.{name}".lstrip("."))
            found += _undescribed(value, f"{path}.{key}" if key != "properties" else path)
    elif isinstance(node, list):
        for item in node:
            found += _undescribed(item, path)
    return found


def test_every_property_of_the_schema_has_a_description() -> None:
    missing = _undescribed(config_schema())

    assert not missing, (
        f"{len(missing)} monitors.yaml keys have no description; give each field a docstring "
        "in src/upwatch/config/models.py: " + ", ".join(missing)
    )


def test_the_committed_reference_is_what_the_generator_renders() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render_reference(), (
        f"docs/configuration.md is stale: regenerate it with `{COMMAND}`"
    )


def test_every_model_of_the_schema_has_a_section() -> None:
    documented = {section.model.__name__ for section in SECTIONS if section.model is not None}

    undocumented = set(config_schema()["$defs"]) - documented

    assert not undocumented, f"add a Section for {sorted(undocumented)} to config/reference.py"


def test_the_reference_names_every_key_of_the_schema() -> None:
    schema = config_schema()
    text = render_reference()
    keys = set(schema["properties"]) | {
        key for definition in schema["$defs"].values() for key in definition["properties"]
    }

    assert not [key for key in sorted(keys) if f"`{key}`" not in text]


def test_every_key_in_a_table_has_an_example() -> None:
    rows = [line for line in render_reference().splitlines() if line.startswith("| `")]

    bare = [row.split(" | ")[0].strip("| `") for row in rows if row.endswith("| — |")]

    assert not bare, f"write these keys into their section's example in reference_sections: {bare}"


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    """The files the tls example names, next to the config as the example expects."""
    folder = tmp_path / "certs"
    folder.mkdir()
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(folder / "internal-ca.pem"))
    client = ca.issue_cert("probe@api.internal")
    client.cert_chain_pems[0].write_to_path(str(folder / "probe.pem"))
    client.private_key_pem.write_to_path(str(folder / "probe-key.pem"))
    return folder


@pytest.mark.parametrize("section", SECTIONS, ids=[s.title for s in SECTIONS])
def test_each_example_is_a_valid_config(tmp_path: Path, certs: Path, section: Section) -> None:
    (example,) = [
        doc
        for doc, s in zip(example_documents(), SECTIONS, strict=True)
        if s.title == section.title
    ]
    document = _completed(example)

    loaded = ConfigFiles(tmp_path).load(yaml.safe_dump(document, sort_keys=False), no_env=True)

    assert loaded.config.version == 1


def _completed(example: dict[str, Any]) -> dict[str, Any]:
    """BASE with the example's sections: maps merged, and the example's monitors first."""
    document = {**BASE, **example}
    for key in ("channels", "escalations"):
        document[key] = {**BASE[key], **example.get(key, {})}
    own = example.get("monitors", [])
    ids = {monitor["id"] for monitor in own}
    document["monitors"] = own + [m for m in BASE["monitors"] if m["id"] not in ids]
    return document
