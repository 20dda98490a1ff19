"""Shared pytest configuration: fixtures live in plugin modules named for what they provide."""

pytest_plugins = [
    "tests.probe_servers",
    "tests.db_fixtures",
    "tests.store_helpers",
    "tests.daemon_helpers",
]
