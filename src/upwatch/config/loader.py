"""Load monitors.yaml: read, interpolate, merge defaults, validate; report every problem at once."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from upwatch.config.interpolate import Interpolation, interpolate
from upwatch.config.merge import MONITOR_KEYS, Origins, check_defaults, merge_monitors
from upwatch.config.models import (
    EXPECT_TYPES,
    Announcement,
    BasicAuth,
    Config,
    EmailApi,
    EmailChannel,
    EscalationStep,
    MaintenanceWindow,
    Notifications,
    Retention,
    SlackChannel,
    StatusPage,
    WebhookChannel,
)
from upwatch.config.problems import Problem, field_error, message_for, problem_at
from upwatch.config.references import check_references
from upwatch.config.source import Path, Positions, SourceError, load_yaml
from upwatch.errors import UsageError


class ConfigInvalid(UsageError):
    """The config cannot be used; `lines` holds every mistake found, already rendered."""

    located = True  # each line already starts with FILE:LINE:COL

    def __init__(self, filename: str, problems: list[Problem], secrets: set[str]) -> None:
        self.lines = [redact(p.render(filename), secrets) for p in sorted(set(problems))]
        count = len(self.lines)
        noun = "problem" if count == 1 else "problems"
        super().__init__("\n".join([*self.lines, f"{filename}: {count} {noun} found"]))


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """A valid config and what the rest of upwatch must know about where it came from."""

    config: Config
    path: str
    digest: str  # sha256 of the file: identifies a config generation
    secrets: frozenset[str]  # every value that came from the environment: never print these

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)


def redact(text: str, secrets: set[str] | frozenset[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "********")
    return text


def load_config(
    path: str, *, environ: Mapping[str, str] | None = None, no_env: bool = False
) -> LoadedConfig:
    """Read and validate `path`; raise ConfigInvalid listing every problem found."""
    try:
        text = FilePath(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the config file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: the config file is not UTF-8 text") from None
    config, secrets = parse_config(text, path, os.environ if environ is None else environ, no_env)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return LoadedConfig(config, path, digest, frozenset(secrets))


def parse_config(
    text: str, filename: str, environ: Mapping[str, str], no_env: bool
) -> tuple[Config, set[str]]:
    try:
        raw, positions = load_yaml(text)
    except SourceError as exc:
        raise ConfigInvalid(
            filename, [problem_at(exc.mark, exc.path, exc.message)], set()
        ) from None
    if not isinstance(raw, dict):
        problem = problem_at(
            positions.of_value(()), (), "the file must be a mapping: `version: 1`, `monitors: ...`"
        )
        raise ConfigInvalid(filename, [problem], set())
    data, found = interpolate(raw, environ, no_env=no_env)
    return _Validation(positions, found).run(data, filename), found.secrets


class _Validation:
    def __init__(self, positions: Positions, found: Interpolation) -> None:
        self.positions = positions
        self.found = found
        self.origins = Origins()
        self.problems: list[Problem] = []

    def run(self, data: dict[str, Any], filename: str) -> Config:
        for path, message in self.found.problems:
            self.problems.append(problem_at(self.positions.of_value(path), path, message))
        for path, message in check_defaults(data.get("defaults")):
            self.add(path, message, at_key=True)
        merged, self.origins = merge_monitors(data)
        for path, message in check_references(merged):
            self.add(self.origins.source(path), message, at_key=False)
        config = self.validate(merged)
        if self.problems or config is None:
            raise ConfigInvalid(filename, self.problems, self.found.secrets)
        return config

    def validate(self, merged: dict[str, Any]) -> Config | None:
        """Validate; under `--no-env`, values waiting for a variable get plausible stand-ins."""
        for stand_in in (*STAND_INS, None):
            try:
                return Config.model_validate(merged)
            except ValidationError as exc:
                errors = exc.errors(include_url=False, include_input=False)
            waiting = [e for e in errors if self.is_waiting(_resolve(e["loc"], merged)[0])]
            if stand_in is None or len(waiting) < len(errors):
                break
            for error in waiting:
                _assign(merged, _resolve(error["loc"], merged)[0], stand_in)
        for error in errors:
            self.add_pydantic(error, merged)
        return None

    def is_waiting(self, path: Path) -> bool:
        source = self.origins.source(path)
        return any(source[: len(u)] == u for u in self.found.unresolved)

    def add(self, path: Path, message: str, *, at_key: bool) -> None:
        if self.is_waiting(path):
            return  # a value still waiting for its variable is not judged
        mark = self.positions.of_key(path) if at_key else self.positions.of_value(path)
        self.problems.append(problem_at(mark, path, message))

    def add_pydantic(self, error: ErrorDetails, merged: dict[str, Any]) -> None:
        path, exists = _resolve(error["loc"], merged)
        moved = field_error(error)
        if moved is not None:
            # A rule about one field, checked with its neighbours: report it on that field.
            path = (*path, moved.field)
            exists = True
        source = self.origins.source(path)
        message = message_for(error, _allowed_keys(path, merged))
        if source != path and moved is not None:
            message += " (the value comes from defaults)"
            source = path
        if error["type"] == "missing" or not exists:
            self.add(source, message, at_key=False)
            return
        self.add(source, message, at_key=error["type"] == "extra_forbidden")


def _resolve(loc: tuple[int | str, ...], data: Any) -> tuple[Path, bool]:
    """Turn pydantic's `loc` into a path through the document, skipping union-tag parts.

    Returns the path and whether its last part exists in the document.
    """
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if part == "[key]":
            return tuple(path), True
        if _has(node, part):
            path.append(part)
            node = node[part]
        elif last and isinstance(node, dict):
            path.append(part)
            return tuple(path), False
    return tuple(path), True


# Values that satisfy each field type a secret typically fills (URL, webhook secret, token...).
STAND_INS = ("https://unset.invalid/", "whsec_dW5zZXQ=", "smtp://unset.invalid", "unset-value")


def _assign(data: Any, path: Path, value: str) -> None:
    for part in path[:-1]:
        data = data[part]
    if path and _has(data, path[-1]):
        data[path[-1]] = value


def _has(node: Any, part: int | str) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _keys(model: type[BaseModel] | None) -> set[str]:
    return {f.alias or n for n, f in model.model_fields.items()} if model else set()


SECTIONS: dict[Path, type[BaseModel]] = {
    ("status_page",): StatusPage,
    ("escalations", "*", "*"): EscalationStep,
    ("maintenance", "*"): MaintenanceWindow,
    ("announcements", "*"): Announcement,
    ("monitors", "*", "basic_auth"): BasicAuth,
    ("channels", "*", "api"): EmailApi,
    ("notifications",): Notifications,
    ("retention",): Retention,
}
CHANNEL_MODELS: dict[str, type[BaseModel]] = {
    "slack": SlackChannel,
    "email": EmailChannel,
    "webhook": WebhookChannel,
}


def _allowed_keys(path: Path, merged: dict[str, Any]) -> set[str]:
    """The keys allowed in the mapping that holds `path`'s last part (for "did you mean")."""
    parent = path[:-1]
    shape = tuple("*" if i > 0 and parent[0] != "status_page" else p for i, p in enumerate(parent))
    if not parent:
        return {*_keys(Config), "defaults"}
    if shape == ("monitors", "*"):
        return MONITOR_KEYS.get(str(_at(merged, parent).get("type", "http")), set())
    if shape == ("monitors", "*", "expect"):
        return _keys(EXPECT_TYPES.get(str(_at(merged, parent[:2]).get("type", "http"))))
    if shape == ("channels", "*"):
        return _keys(CHANNEL_MODELS.get(str(_at(merged, parent).get("type"))))
    return _keys(SECTIONS.get(shape))


def _at(data: Any, path: Path) -> dict[str, Any]:
    for part in path:
        data = data[part]
    return data if isinstance(data, dict) else {}
