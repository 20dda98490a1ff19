"""`upwatch check`: validate the config without touching the network or the database."""

from __future__ import annotations

import argparse
import os
import re
import sys

from upwatch.config.loader import ConfigInvalid, LoadedConfig, load_config
from upwatch.config.subscription_needs import KEY_VARIABLE, subscription_warning

UNSET_VARIABLE = re.compile(r": environment variable \w+ is not set")
NO_ENV_HINT = (
    "hint: set them, or run `upwatch check --no-env` to check everything else "
    "(as an image build does, without the secrets)"
)


def print_warnings(loaded: LoadedConfig) -> None:
    """Each warning on its own stderr line; warnings never change the exit code."""
    for line in loaded.warnings:
        print(line, file=sys.stderr)


def print_environment_warnings(loaded: LoadedConfig, *, no_env: bool) -> None:
    """What the config needs from the environment of `upwatch run` (the secret key): judged only
    when the real environment is read; under `--no-env` the image is built without it."""
    key_set = no_env or bool(os.environ.get(KEY_VARIABLE))
    warning = subscription_warning(loaded.config, secret_key_set=key_set)
    if warning is not None:
        print(f"{loaded.path}: warning: {warning}", file=sys.stderr)


def run_check(args: argparse.Namespace) -> int:
    try:
        loaded = load_config(args.config, no_env=args.no_env)
    except ConfigInvalid as exc:
        print(exc, file=sys.stderr)
        if any(UNSET_VARIABLE.search(line) for line in exc.lines):
            print(NO_ENV_HINT, file=sys.stderr)
        return exc.exit_code
    print_warnings(loaded)
    print_environment_warnings(loaded, no_env=args.no_env)
    config = loaded.config
    print(
        f"ok: {len(config.monitors)} monitors, {len(config.channels)} channels, "
        f"{len(config.escalations)} escalation policies"
    )
    return 0
