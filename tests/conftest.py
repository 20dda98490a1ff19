"""Shared pytest configuration: fixtures live in plugin modules named for what they provide."""

import os

# `upwatch run` in a test is one process (a test reads its log, or replaces the daemon in this
# process); the tests of `--workers` ask for workers themselves.
os.environ["UPWATCH_WORKERS"] = "1"

pytest_plugins = [
    "tests.probe_servers",
    "tests.db_fixtures",
    "tests.store_helpers",
    "tests.daemon_helpers",
]
