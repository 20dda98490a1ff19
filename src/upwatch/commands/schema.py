"""`upwatch schema`: print the JSON Schema of monitors.yaml, for editors."""

from __future__ import annotations

import argparse
import json

from upwatch.config.schema import config_schema


def run_schema(args: argparse.Namespace) -> int:
    print(json.dumps(config_schema(), indent=2, sort_keys=False))
    return 0
