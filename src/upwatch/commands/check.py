"""`upwatch check`: validate the config without touching the network or the database."""

from __future__ import annotations

import argparse
import sys

from upwatch.config.loader import LoadedConfig, load_config


def print_warnings(loaded: LoadedConfig) -> None:
    """Each warning on its own stderr line; warnings never change the exit code."""
    for line in loaded.warnings:
        print(line, file=sys.stderr)


def run_check(args: argparse.Namespace) -> int:
    loaded = load_config(args.config, no_env=args.no_env)
    print_warnings(loaded)
    config = loaded.config
    print(
        f"ok: {len(config.monitors)} monitors, {len(config.channels)} channels, "
        f"{len(config.escalations)} escalation policies"
    )
    return 0
