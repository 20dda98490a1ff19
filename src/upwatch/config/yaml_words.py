"""PyYAML's parser errors in plain words, and the position that points at the mistake.

PyYAML reports what its grammar expected ("expected <block end>, but found '<block mapping
start>'"); a person needs to hear what is wrong on that line and how to fix it.
"""

from __future__ import annotations

import re

import yaml

INDENT = "this line is indented differently from the lines above it"
COLON = (
    "a mapping value is not allowed here (a ':' inside an unquoted value? quote it; "
    "or this line is indented more than the one above it)"
)


def in_words(exc: yaml.MarkedYAMLError) -> str:
    """What is wrong, for the line `error_mark(exc)` points at."""
    problem, context = exc.problem or "", exc.context or ""
    for explain in (_character, _block_end, _plain, _flow, _alias):
        words = explain(problem, context, exc)
        if words:
            return words
    return f"{context}, {problem}" if context and problem.startswith("but ") else problem or context


def error_mark(exc: yaml.MarkedYAMLError) -> yaml.Mark | None:
    """Where the mistake is: for an unclosed quote or a key without ':', where it starts."""
    starts = exc.problem == "could not find expected ':'" or (exc.context or "").startswith(
        "while scanning a quoted scalar"
    )
    if starts and exc.context_mark is not None:
        return exc.context_mark
    return exc.problem_mark or exc.context_mark


def _character(problem: str, _context: str, _exc: yaml.MarkedYAMLError) -> str | None:
    found = re.fullmatch(r"found character '(.+)' that cannot start any token", problem)
    if found is None:
        return None
    if found[1] == "\\t":
        return "a tab character: YAML indents with spaces"
    return f"a value cannot start with {found[1]}: quote the value"


def _block_end(problem: str, _context: str, _exc: yaml.MarkedYAMLError) -> str | None:
    if not problem.startswith("expected <block end>"):
        return None
    if problem.endswith(("'-'", "'<block sequence start>'")):
        return f"a list item ('-') where a key was expected: {INDENT}"
    if problem.endswith("'<scalar>'"):
        return f"unexpected text (after a closing quote? quote the whole value; or {INDENT})"
    return INDENT


def _plain(problem: str, context: str, _exc: yaml.MarkedYAMLError) -> str | None:
    if problem == "mapping values are not allowed here":
        return COLON
    if problem == "could not find expected ':'":
        return "this key has no ':' after it (a mapping's lines are `key: value`)"
    if context.startswith("while scanning a quoted scalar"):
        return "this quote is never closed"
    if problem == "but found another document":
        return "a second document ('---'): write the whole config as one document"
    return None


def _flow(_problem: str, context: str, exc: yaml.MarkedYAMLError) -> str | None:
    if not context.startswith(("while parsing a flow sequence", "while parsing a flow mapping")):
        return None
    opener, closer = ("[", "]") if "sequence" in context else ("{", "}")
    where = f" on line {exc.context_mark.line + 1}" if exc.context_mark else ""
    return f"the '{opener}' opened{where} is not closed with '{closer}' (or an item lacks a ',')"


def _alias(problem: str, _context: str, _exc: yaml.MarkedYAMLError) -> str | None:
    alias = re.fullmatch(r"found undefined alias '(.+)'", problem)
    if alias is None:
        return None
    return f"*{alias[1]} refers to an anchor &{alias[1]} that is not defined above it"
