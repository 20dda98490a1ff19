"""`upwatch check`: validate the config without touching the network or the database."""

from __future__ import annotations

import argparse

from upwatch.config.loader import load_config


def run_check(args: argparse.Namespace) -> int:
    loaded = load_config(args.config, no_env=args.no_env)
    config = loaded.config
    print(
        f"ok: {len(config.monitors)} monitors, {len(config.channels)} channels, "
        f"{len(config.escalations)} escalation policies"
    )
    return 0
