"""YAML to plain Python values, remembering where every key and value was written.

PyYAML's `safe_load` forgets positions, so the document is composed into nodes and walked here:
scalars are built by PyYAML's own SafeConstructor (ints, bools, timestamps as YAML 1.1 defines
them), mappings and sequences by this module, which records each node's line and column by path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from upwatch.config.yaml_words import error_mark, in_words

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
        self.open: dict[int, Path] = {}  # collections being walked, by node identity

    def value(self, node: yaml.Node, path: Path) -> Any:
        if id(node) in self.open:
            outer = self.open[id(node)]
            raise SourceError(Mark.of(node), outer, "an alias refers to the node that contains it")
        if len(path) > MAX_DEPTH:
            message = f"nested more than {MAX_DEPTH} levels deep"
            raise SourceError(Mark.of(node), path[:2], message)
        self.positions.values[path] = Mark.of(node)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        self.open[id(node)] = path
        try:
            return self.collection(node, path)
        finally:
            del self.open[id(node)]

    def scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # PyYAML's constructors fail in many ways on a wrong `!!tag`
            kind = node.tag.rsplit(":", 1)[-1]
            reason = f": {exc}" if isinstance(exc, ValueError) else ""  # 2026-02-30: which part
            message = f"cannot read this value as {kind}{reason}"
            raise SourceError(Mark.of(node), path, message) from None

    def collection(self, node: yaml.Node, path: Path) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]

    def mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        own = {id(key) for key, _ in node.value}
        self.loader.flatten_mapping(node)  # puts the pairs of `<<: *anchor` merge keys first
        result: dict[str, Any] = {}
        merged: set[str] = set()
        for key_node, value_node in node.value:
            key = self.key(key_node, path)
            if key in result and key not in merged:
                first = self.positions.keys[(*path, key)]
                message = f"duplicate key '{key}' (first written on line {first.line})"
                raise SourceError(Mark.of(key_node), (*path, key), message)
            # A key written here overrides one merged in; of merged ones, the last pair wins.
            merged.discard(key)
            if id(key_node) not in own:
                merged.add(key)
            self.positions.keys[(*path, key)] = Mark.of(key_node)
            result[key] = self.value(value_node, (*path, key))
        return result

    @staticmethod
    def key(node: yaml.Node, path: Path) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise SourceError(Mark.of(node), path, "keys must be plain names")
        return str(node.value)  # as written: `on:` is the key "on", not YAML 1.1's True


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
        mark = error_mark(exc)
        where = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
        raise SourceError(where, (), f"not valid YAML: {in_words(exc)}") from None
    except yaml.YAMLError as exc:
        raise SourceError(Mark(1, 1), (), f"not valid YAML: {type(exc).__name__}") from None
    except RecursionError:
        # PyYAML composes nested collections recursively; a sane config is nowhere near this deep.
        reached = loader.get_mark()
        message = f"nested more than {MAX_DEPTH} levels deep"
        raise SourceError(Mark(reached.line + 1, reached.column + 1), (), message) from None
    finally:
        loader.dispose()
