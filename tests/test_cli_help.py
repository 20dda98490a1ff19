"""`upwatch --version` and each command's `--help`, as a person reaching for them reads them."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from upwatch.cli import build_parser, main


def _commands() -> list[str]:
    (sub,) = (a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


def test_version_prints_the_installed_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"upwatch {version('upwatch')}\n"


@pytest.mark.parametrize("command", _commands())
def test_each_command_help_says_what_it_does_and_shows_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    usage, description = text.split("\n\n")[:2]
    assert usage.startswith(f"usage: upwatch {command}")
    assert not description.startswith("options:")
    example = text.split("\nexample:\n", 1)[1]
    assert example.lstrip().startswith(f"upwatch {command}") or f" upwatch {command}" in example


def test_a_reader_that_stops_early_is_not_an_internal_error() -> None:
    # `upwatch schema | head -c 10`: the reader is gone before the output is written.
    upwatch = Path(sys.executable).with_name("upwatch")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [str(upwatch), "schema"],
            check=False,
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=30,
        )
    finally:
        os.close(write_end)

    assert done.returncode == 141
    assert done.stderr == b""
