"""Load monitors.yaml: read, interpolate, merge defaults, validate; report every problem at once."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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
    EscalationStep,
    MaintenanceWindow,
    Notifications,
    Retention,
    StatusPage,
)
from upwatch.config.problems import Problem, field_error, message_for, problem_at
from upwatch.config.references import check_references
from upwatch.config.secrets import literal_secrets
from upwatch.config.shown import redact, shown_config
from upwatch.config.source import Path, Positions, SourceError, load_yaml
from upwatch.config.tls_files import resolve_tls_files
from upwatch.config.tokens import token_findings
from upwatch.errors import UsageError
from upwatch.notify.channels.email import EmailApi
from upwatch.notify.channels.registry import CHANNEL_MODELS


class ConfigInvalid(UsageError):
    """The config cannot be used; `lines` holds every mistake found, already rendered."""

    located = True  # each line already starts with FILE:LINE:COL

    def __init__(self, filename: str, problems: list[Problem], secrets: set[str]) -> None:
        # Only messages can hold a value; the position and path are written by the user.
        self.lines = [
            replace(p, message=redact(p.message, secrets)).render(filename)
            for p in sorted(set(problems))
        ]
        count = len(self.lines)
        noun = "problem" if count == 1 else "problems"
        super().__init__("\n".join([*self.lines, f"{filename}: {count} {noun} found"]))


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """A valid config and what the rest of upwatch must know about where it came from."""

    config: Config
    path: str
    digest: str  # sha256 of the file: identifies a config generation
    # Never print these: every value from a `${VAR}` and every credential written in the file
    # (config/secrets.py says which); nothing else, so ordinary words are shown as written.
    secrets: frozenset[str]
    # Under `needs`: where a value waits for a variable nobody set (it holds a stand-in).
    unset: frozenset[Path] = frozenset()
    # What works but should be fixed, as `FILE:LINE:COL: path: warning: message` lines.
    warnings: tuple[str, ...] = ()
    _shown: list[Config] = field(default_factory=list, init=False, repr=False, compare=False)

    def redact(self, text: str) -> str:
        """One value (a name, a cause, a message) as it may be shown."""
        return redact(text, self.secrets)

    def shown(self) -> Config:
        """The config as pages, messages and command output may show it (secrets replaced);
        probing and sending use `config`. Computed once."""
        if not self._shown:
            self._shown.append(shown_config(self.config, self.secrets))
        return self._shown[0]


@dataclass(frozen=True, slots=True)
class Needs:
    """What a one-off command uses: only the `${VAR}`s of that monitor or channel must be set.

    `upwatch probe ID` runs one monitor (with what it inherits from `defaults`) and `notify-test
    CHANNEL` one channel. Elsewhere, an unset variable is treated as `check --no-env`
    treats it: its value gets a stand-in and is not judged.
    """

    monitor: str | None = None
    channel: str | None = None

    def sources(self, merged: dict[str, Any], origins: Origins) -> list[Path]:
        """Where the values the command uses were written."""
        if self.channel is not None:
            return [("channels", self.channel)]
        monitors = merged.get("monitors")
        for i, monitor in enumerate(monitors if isinstance(monitors, list) else []):
            if isinstance(monitor, dict) and monitor.get("id") == self.monitor:
                return _monitor_sources(i, monitor, origins)
        return []  # no such monitor: the command says so once the config is loaded


def _monitor_sources(i: int, monitor: dict[str, Any], origins: Origins) -> list[Path]:
    paths: list[Path] = [("monitors", i)]
    for key, value in monitor.items():
        if key == "expect" and isinstance(value, dict):  # merged key by key
            paths.extend(origins.source(("monitors", i, key, k)) for k in value)
        else:
            paths.append(origins.source(("monitors", i, key)))
    return paths


def load_config(
    path: str,
    *,
    environ: Mapping[str, str] | None = None,
    no_env: bool = False,
    needs: Needs | None = None,
) -> LoadedConfig:
    """Read and validate `path`; raise ConfigInvalid listing every problem found.

    With `needs`, only the variables of that monitor or channel must be set; every other value
    waiting for one holds a stand-in, so use nothing from the config but what `needs` names.
    """
    try:
        text = FilePath(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the config file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: the config file is not UTF-8 text") from None
    environ = os.environ if environ is None else environ
    config, found, warned = _parse(text, path, environ, no_env, needs)
    digest = hashlib.sha256(text.encode()).hexdigest()
    secrets = frozenset(found.secrets | literal_secrets(config))
    unset = frozenset(found.unresolved) if needs is not None else frozenset()
    warnings = tuple(
        replace(w, message=redact(w.message, secrets)).render(path, warning=True)
        for w in sorted(set(warned))
    )
    return LoadedConfig(config, path, digest, secrets, unset, warnings)


def parse_config(
    text: str, filename: str, environ: Mapping[str, str], no_env: bool
) -> tuple[Config, set[str]]:
    config, found, _ = _parse(text, filename, environ, no_env, None)
    return config, found.secrets


def _parse(
    text: str, filename: str, environ: Mapping[str, str], no_env: bool, needs: Needs | None
) -> tuple[Config, Interpolation, list[Problem]]:
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
    data, found = interpolate(raw, environ, no_env=no_env or needs is not None)
    # The real environment is read (`run`, `check`, a reload): unsafe placeholders are errors.
    strict = not no_env and needs is None
    validation = _Validation(positions, found, needs, strict=strict)
    return validation.run(data, filename), found, validation.warnings


class _Validation:
    def __init__(
        self, positions: Positions, found: Interpolation, needs: Needs | None, *, strict: bool
    ) -> None:
        self.positions = positions
        self.found = found
        self.needs = needs
        self.strict = strict
        self.origins = Origins()
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def run(self, data: dict[str, Any], filename: str) -> Config:
        for path, message in self.found.problems:
            self.problems.append(problem_at(self.positions.of_value(path), path, message))
        for path, message in check_defaults(data.get("defaults")):
            self.record(path, message, at_key=True)  # a misspelt key is wrong whatever its value
        merged, self.origins = merge_monitors(data)
        if self.needs is not None:
            self.demand(self.needs.sources(merged, self.origins))
        for path, message in check_references(merged):
            self.add(self.origins.source(path), message, at_key=False)
        self.check_tokens(merged)
        config = self.validate(merged)
        if config is not None:
            config, found = resolve_tls_files(config, FilePath(filename).parent)
            for path, message in found:
                self.add(self.origins.source(path), message, at_key=False)
        if self.problems or config is None:
            raise ConfigInvalid(filename, self.problems, self.found.secrets)
        return config

    def check_tokens(self, merged: dict[str, Any]) -> None:
        for finding in token_findings(merged):
            source = self.origins.source(finding.path)
            if self.is_waiting(finding.path):
                continue  # a stand-in for a variable nobody set, not the token
            mark = self.positions.of_value(source)
            problem = problem_at(mark, source, finding.message)
            error = finding.placeholder and self.strict
            (self.problems if error else self.warnings).append(problem)

    def validate(self, merged: dict[str, Any]) -> Config | None:
        """Validate; under `--no-env`, values waiting for a variable get plausible stand-ins.

        Each round gives every waiting value that is still invalid the next stand-in, so the rules
        that only run once a whole entry is valid (timeout against interval) still run. A rule
        comparing a value with one still waiting is not judged.
        """
        for stand_in in (*STAND_INS, None):
            try:
                return Config.model_validate(merged)
            except ValidationError as exc:
                errors = exc.errors(include_url=False, include_input=False)
            if stand_in is None or not self.fill(errors, merged, stand_in):
                break
        judged = [e for e in errors if not self.waits(e, merged)]
        for error in judged:
            self.add_pydantic(error, merged)
        if judged:
            return None
        if self.needs is not None:
            # No stand-in fits a value elsewhere (say `method: ${METHOD}`), and a command cannot
            # run on a config that was not validated: those variables are needed after all.
            waiting = [p for e in errors for p in self.waiting_in(e, merged)]
            self.demand([self.origins.source(p) for p in waiting])
            return None
        return _unjudged(merged)

    def demand(self, sources: list[Path]) -> None:
        """Report the unset variables written at or under `sources`."""
        for path, message in self.found.missing:
            if any(path[: len(s)] == s for s in sources):
                self.problems.append(problem_at(self.positions.of_value(path), path, message))

    def fill(self, errors: list[ErrorDetails], merged: dict[str, Any], stand_in: str) -> bool:
        """Give each value still waiting for a variable and failing on its own `stand_in`; where a
        rule compares a waiting value with a written one (timeout <= interval), give it that
        value. Returns whether anything changed, so another round is worth it.
        """
        changed = False
        for error in errors:
            path = _locate(error, merged)[0]
            moved = field_error(error)
            if moved is None:
                changed |= self.is_waiting(path) and _assign(merged, path, stand_in)
            else:
                changed |= self.copy_written(merged, [(*path[:-1], n) for n in moved.judges])
        return changed

    def copy_written(self, merged: dict[str, Any], compared: list[Path]) -> bool:
        written = [p for p in compared if not self.is_waiting(p) and _resolve(p, merged)[1]]
        waiting = [p for p in compared if self.is_waiting(p)]
        if not written or not waiting:
            return False
        value = _at_path(merged, written[0])
        changed = [_assign(merged, path, value) for path in waiting]  # every one, not the first
        return any(changed)

    def waits(self, error: ErrorDetails, merged: dict[str, Any]) -> bool:
        """Whether `error` judges a value (or a neighbour it is compared with) still unresolved."""
        return bool(self.waiting_in(error, merged))

    def waiting_in(self, error: ErrorDetails, merged: dict[str, Any]) -> list[Path]:
        """The values `error` judges that still wait for a variable."""
        if error["type"] == "extra_forbidden":
            return []  # a misspelt key is wrong whatever its value
        path = _locate(error, merged)[0]
        moved = field_error(error)
        judged = [(*path[:-1], name) for name in moved.judges] if moved else [path]
        return [p for p in judged if self.is_waiting(p)]

    def is_waiting(self, path: Path) -> bool:
        source = self.origins.source(path)
        return any(source[: len(u)] == u for u in self.found.unresolved)

    def add(self, path: Path, message: str, *, at_key: bool) -> None:
        if not self.is_waiting(path):  # a value still waiting for its variable is not judged
            self.record(path, message, at_key=at_key)

    def record(self, path: Path, message: str, *, at_key: bool) -> None:
        mark = self.positions.of_key(path) if at_key else self.positions.of_value(path)
        self.problems.append(problem_at(mark, path, message))

    def add_pydantic(self, error: ErrorDetails, merged: dict[str, Any]) -> None:
        path, exists = _locate(error, merged)
        source = self.origins.source(path)
        message = message_for(error, _allowed_keys(path, merged))
        if source != path and field_error(error) is not None:
            # A rule comparing fields: the default is fine on its own, wrong for this monitor.
            message += " (the value comes from defaults)"
            source = path
        at_key = error["type"] == "extra_forbidden" or "[key]" in error["loc"]
        self.record(source, message, at_key=at_key and exists)


def _unjudged(merged: dict[str, Any]) -> Config:
    """Under `--no-env`, a config whose only doubts wait for variables (say `method: ${METHOD}`,
    or `interval: ${INTERVAL}` next to a fixed timeout): nothing is known to be wrong, so `check`
    passes. Built without validation, it is good for counting entries, not for running.
    """
    return Config.model_construct(**{k: v for k, v in merged.items() if k in Config.model_fields})


def _locate(error: ErrorDetails, merged: dict[str, Any]) -> tuple[Path, bool]:
    """The document path an error is about, and whether that path exists in the document."""
    loc = error["loc"]
    moved = field_error(error)
    if moved is not None and moved.field is not None:
        loc = (*loc, moved.field)  # a rule checked with its neighbours, reported on one field
    elif error["type"] == "union_tag_invalid":
        loc = (*loc, "type")  # the `type` value names no known kind
    return _resolve(loc, merged)


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


# Values that satisfy each field type a variable typically fills (URL, webhook secret, token,
# email address, slug, duration, number or flag, cron expression, time), tried in this order.
STAND_INS = (
    "https://unset.invalid/",
    "whsec_dW5zZXQ=",
    "smtp://unset.invalid",
    "unset@unset.invalid",
    "unset-value",
    "1m",
    "1",
    "0 0 * * *",
    "2000-01-01T00:00:00Z",
)


def _assign(data: Any, path: Path, value: Any) -> bool:
    for part in path[:-1]:
        data = data[part]
    if not path or not _has(data, path[-1]) or data[path[-1]] == value:
        return False
    data[path[-1]] = value
    return True


def _at_path(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part]
    return data


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


def _allowed_keys(path: Path, merged: dict[str, Any]) -> set[str]:
    """The keys allowed in the mapping that holds `path`'s last part (for "did you mean")."""
    parent = path[:-1]
    shape = _shape(parent)
    if not parent:
        return {*_keys(Config), "defaults"}
    if shape == ("monitors", "*"):
        return MONITOR_KEYS.get(str(_at(merged, parent).get("type", "http")), set())
    if shape == ("monitors", "*", "expect"):
        return _keys(EXPECT_TYPES.get(str(_at(merged, parent[:2]).get("type", "http"))))
    if shape == ("channels", "*"):
        return _keys(CHANNEL_MODELS.get(str(_at(merged, parent).get("type"))))
    return _keys(SECTIONS.get(shape))


def _shape(path: Path) -> Path:
    """`path` with entry names and list indexes as `*`: channels.pager.api -> channels.*.api."""
    named = len(path) > 1 and path[0] in ("channels", "escalations")
    return tuple(
        "*" if isinstance(part, int) or (i == 1 and named) else part for i, part in enumerate(path)
    )


def _at(data: Any, path: Path) -> dict[str, Any]:
    for part in path:
        data = data[part]
    return data if isinstance(data, dict) else {}
