"""YAML to plain Python values, remembering where every key and value was written.

PyYAML's `safe_load` forgets positions, so the document is composed into nodes and walked here:
scalars are built by PyYAML's own SafeConstructor (ints, bools, timestamps as YAML 1.1 defines
them), mappings and sequences by this module, which records each node's line and column by path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]
MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class Mark:
    """A 1-based line and column in the config file."""

    line: int
    col: int

    @classmethod
    def of(cls, node: yaml.Node) -> Mark:
        return cls(node.start_mark.line + 1, node.start_mark.column + 1)


@dataclass(slots=True)
class Positions:
    """Where each value (and, for mapping entries, each key) was written, by path."""

    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)

    def of_value(self, path: Path) -> Mark:
        """The nearest recorded position at or above `path`."""
        for depth in range(len(path), -1, -1):
            mark = self.values.get(path[:depth])
            if mark is not None:
                return mark
        return Mark(1, 1)

    def of_key(self, path: Path) -> Mark:
        return self.keys.get(path) or self.of_value(path)


class SourceError(Exception):
    """The file is not YAML we can read; carries the position and a message for the user."""

    def __init__(self, mark: Mark, path: Path, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.path = path
        self.message = message


class _Walker:
    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.positions = Positions()

    def value(self, node: yaml.Node, path: Path) -> Any:
        if len(path) > MAX_DEPTH:
            raise SourceError(Mark.of(node), path, "nested too deeply (recursive alias?)")
        self.positions.values[path] = Mark.of(node)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.loader.construct_object(node, deep=True)

    def mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        self.loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise SourceError(Mark.of(key_node), path, "keys must be plain names")
            key = str(self.loader.construct_object(key_node))
            if key in result:
                first = self.positions.keys[(*path, key)]
                message = f"duplicate key '{key}' (first written on line {first.line})"
                raise SourceError(Mark.of(key_node), (*path, key), message)
            self.positions.keys[(*path, key)] = Mark.of(key_node)
            result[key] = self.value(value_node, (*path, key))
        return result


def load_yaml(text: str) -> tuple[Any, Positions]:
    """Parse one YAML document into plain values and the position of each of them."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SourceError(Mark(1, 1), (), "the file is empty; start with `version: 1`")
        walker = _Walker(loader)
        return walker.value(node, ()), walker.positions
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
        raise SourceError(where, (), f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise SourceError(Mark(1, 1), (), f"not valid YAML: {type(exc).__name__}") from None
    finally:
        loader.dispose()
