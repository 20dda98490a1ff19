"""Helpers for the config tests: write inline YAML to a file, load it, read the problems back."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from upwatch.config.loader import ConfigInvalid, LoadedConfig, load_config
from upwatch.config.models import Config

# A `FILE:LINE:COL: path.to.field: message` line; the path is absent for problems of the whole file.
# A part of the path is plain or, when it has spaces or dots, JSON-quoted.
LINE_RE = re.compile(
    r'^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?:(?P<path>(?:[^\s:"]|"(?:[^"\\]|\\.)*")+): )?'
    r"(?P<msg>.*)$"
)


@dataclass(frozen=True)
class Reported:
    """One problem line of `upwatch check`, taken apart."""

    file: str
    line: int
    col: int
    path: str
    message: str

    @classmethod
    def parse(cls, text: str) -> Reported:
        match = LINE_RE.match(text)
        assert match, f"not a FILE:LINE:COL line: {text!r}"
        return cls(
            match["file"], int(match["line"]), int(match["col"]), match["path"] or "", match["msg"]
        )


def position_of(text: str, fragment: str) -> tuple[int, int]:
    """1-based line and column where `fragment` first occurs in `text`."""
    offset = text.index(fragment)
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


class ConfigFiles:
    """Writes configs into a directory and loads them the way `upwatch check` does."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, text: str, name: str = "monitors.yaml") -> Path:
        path = self.directory / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def load(
        self, text: str, env: Mapping[str, str] | None = None, *, no_env: bool = False
    ) -> LoadedConfig:
        return load_config(str(self.write(text)), environ=env or {}, no_env=no_env)

    def config(
        self, text: str, env: Mapping[str, str] | None = None, *, no_env: bool = False
    ) -> Config:
        return self.load(text, env, no_env=no_env).config

    def invalid(
        self, text: str, env: Mapping[str, str] | None = None, *, no_env: bool = False
    ) -> ConfigInvalid:
        with pytest.raises(ConfigInvalid) as caught:
            self.load(text, env, no_env=no_env)
        return caught.value

    def problems(
        self, text: str, env: Mapping[str, str] | None = None, *, no_env: bool = False
    ) -> list[Reported]:
        return [Reported.parse(line) for line in self.invalid(text, env, no_env=no_env).lines]
