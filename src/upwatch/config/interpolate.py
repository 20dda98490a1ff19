"""`${NAME}`, `${NAME:-default}` and `$$` inside parsed scalar values (never in the raw text).

Interpolating after parsing means a `#` or `:` in a secret cannot change the document's structure.
Every value that came from the environment is remembered as a secret so no output ever shows it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from upwatch.config.source import Path

_TOKEN = re.compile(r"\$\$|\$\{([^}]*)\}|\$\{")
_NAME = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(:-(.*))?$", re.DOTALL)


@dataclass(slots=True)
class Interpolation:
    """What interpolation learned: secrets to redact, paths left unresolved, problems found."""

    secrets: set[str] = field(default_factory=set)
    secret_paths: set[Path] = field(default_factory=set)
    unresolved: set[Path] = field(default_factory=set)
    problems: list[tuple[Path, str]] = field(default_factory=list)
    # Every unset variable, where it was written, even when it is not (yet) a problem.
    missing: list[tuple[Path, str]] = field(default_factory=list)


class _Interpolator:
    def __init__(self, environ: Mapping[str, str], no_env: bool) -> None:
        self.environ = environ
        self.no_env = no_env
        self.result = Interpolation()

    def walk(self, value: Any, path: Path) -> Any:
        if isinstance(value, dict):
            return {k: self.walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.walk(v, (*path, i)) for i, v in enumerate(value)]
        if isinstance(value, str) and "$" in value:
            return _TOKEN.sub(lambda m: self.replace(m, path), value)
        return value

    def replace(self, match: re.Match[str], path: Path) -> str:
        if match.group(0) == "$$":
            return "$"
        inner = match.group(1)
        parsed = _NAME.match(inner) if inner is not None else None
        if parsed is None:
            self.result.problems.append((path, _bad_reference(inner)))
            self.result.unresolved.add(path)
            return ""
        name, default = parsed.group(1), parsed.group(3)
        if name in self.environ:
            return self.secret(self.environ[name], path)
        if default is not None:
            return default
        # Either way the value is unknown: judging the empty stand-in would only add noise.
        self.result.unresolved.add(path)
        message = f"environment variable {name} is not set (and has no :-default)"
        self.result.missing.append((path, message))
        if not self.no_env:
            self.result.problems.append((path, message))
        return ""

    def secret(self, value: str, path: Path) -> str:
        self.result.secret_paths.add(path)
        if value and path not in PUBLISHED:
            self.result.secrets.add(value)
        return value


# Values published by their nature even when they come from a variable: the status page's own
# address is the link in every message (on Railway it is `${RAILWAY_PUBLIC_DOMAIN}`), and
# starring it would break every acknowledge and status page link.
PUBLISHED: frozenset[Path] = frozenset({("status_page", "public_url")})


def _bad_reference(inner: str | None) -> str:
    if inner is None:
        return "`${` is not closed; write ${NAME}, ${NAME:-default}, or $$ for a literal $"
    return "`${...}` needs a variable name (letters, digits, _), optionally followed by :-default"


def interpolate(
    data: Any, environ: Mapping[str, str], *, no_env: bool
) -> tuple[Any, Interpolation]:
    """Return `data` with every reference replaced, and what was learned doing it."""
    interpolator = _Interpolator(environ, no_env)
    return interpolator.walk(data, ()), interpolator.result
