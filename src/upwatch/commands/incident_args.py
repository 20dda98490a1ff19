"""The arguments of `upwatch incident declare|update` (kept apart from the command, so parsing
the command line imports no database code)."""

from __future__ import annotations

import argparse

# As store.incident_updates.STATUSES and the config's severities (tests check they agree).
STATUSES = ("investigating", "identified", "monitoring", "resolved")
SEVERITIES = ("critical", "error", "warning", "info")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`incident declare ...` and `incident update ...` under `parser`."""
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    declare = actions.add_parser("declare", help="declare an incident by hand")
    declare.add_argument("title", metavar="TITLE")
    declare.add_argument("--body", required=True, help="what is happening (its first update)")
    declare.add_argument("--status", choices=STATUSES, default="investigating")
    declare.add_argument(
        "--monitor",
        action="append",
        default=[],
        metavar="ID",
        help="a monitor it concerns (repeat for several); its uptime is not affected",
    )
    declare.add_argument("--severity", choices=SEVERITIES, default=None)
    update = actions.add_parser("update", help="write an update on an incident")
    update.add_argument("incident_id", metavar="ID", type=_incident_id)
    update.add_argument("--status", choices=STATUSES, required=True)
    update.add_argument("body", metavar="BODY")
    for sub in (declare, update):
        sub.add_argument("--json", action="store_true", help="print the incident as JSON")
        sub.add_argument("-c", "--config", default=None, help="config file")


def _incident_id(text: str) -> int:
    if not (text.isascii() and text.isdigit() and 0 < len(text) <= 18):
        raise argparse.ArgumentTypeError(f"not an incident id: {text!r}")
    return int(text)
