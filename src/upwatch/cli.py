"""The `upwatch` console script: parses arguments and hands each command to its module.

Exit codes: 0 success, 1 runtime failure, 2 usage or config error (3 is `probe`'s "degraded").
Errors are one line on stderr; a traceback only with --debug.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version

from upwatch.commands.incident_args import add_arguments as add_incident_arguments
from upwatch.errors import UpwatchError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a command killed by it would report


def default_config_path() -> str:
    return os.environ.get("UPWATCH_CONFIG") or "monitors.yaml"


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--config",
        default=None,
        help="config file (default: $UPWATCH_CONFIG, else ./monitors.yaml)",
    )


# Each command's description and example, as `upwatch COMMAND --help` shows them.
COMMAND_HELP: dict[str, tuple[str, str]] = {
    "run": (
        "Run the daemon: probes on schedule, incidents, notifications and the status page.",
        "upwatch run -c monitors.yaml --workers auto",
    ),
    "check": (
        "Validate the config without touching the network or the database; every problem is "
        "reported as FILE:LINE:COL.",
        "upwatch check -c monitors.yaml\n  upwatch check --no-env   # in an image build, "
        "without the secrets",
    ),
    "probe": (
        "Run one probe now, by monitor id from the config or by URL, and print the result.",
        "upwatch probe api-health\n  upwatch probe https://example.com/healthz",
    ),
    "notify-test": (
        "Send a test notification through one channel of the config.",
        "upwatch notify-test ops-slack",
    ),
    "migrate": (
        "Bring the database schema to the latest revision ($DATABASE_URL, else a SQLite file).",
        "DATABASE_URL=postgresql://upwatch@db/upwatch upwatch migrate",
    ),
    "schema": (
        "Print the JSON Schema of monitors.yaml, for an editor's completion and checks.",
        "upwatch schema > monitors.schema.json",
    ),
    "status": (
        "Print monitor states and open incidents from the database (never creates one).",
        "upwatch status\n  upwatch status --json",
    ),
    "incident": (
        "Declare an incident by hand, or write an update on one, in the database (sent as "
        "incident.updated by the running daemon; shown on the status page).",
        'upwatch incident declare "Login is slow" --body "Looking into it" --monitor api\n'
        '  upwatch incident update 42 --status resolved "Fixed: a bad cache node"',
    ),
}


def package_version() -> str:
    try:
        return version("upwatch")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown (not installed)"


def _command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str
) -> argparse.ArgumentParser:
    description, example = COMMAND_HELP[name]
    return sub.add_parser(
        name,
        help=summary,
        description=description,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="upwatch", description="Synthetic monitoring daemon.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--version", action="version", version=f"upwatch {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = _command(sub, "run", "run the daemon")
    _add_config(run)
    run.add_argument(
        "--workers",
        default=None,
        metavar="N",
        help="worker processes: auto (the CPUs this process may use) or a number "
        "(default: $UPWATCH_WORKERS, else auto)",
    )
    check = _command(sub, "check", "validate the config (no network, no database)")
    _add_config(check)
    check.add_argument(
        "--no-env", action="store_true", help="allow unset ${VAR}s (for image builds)"
    )
    probe = _command(sub, "probe", "run one probe now and print the result")
    probe.add_argument("target", metavar="ID_OR_URL")
    _add_config(probe)
    notify = _command(sub, "notify-test", "send a test notification through a channel")
    notify.add_argument("channel", metavar="CHANNEL")
    _add_config(notify)
    _command(sub, "migrate", "bring the database schema to the latest revision")
    _command(sub, "schema", "print the JSON Schema of monitors.yaml")
    status = _command(sub, "status", "print monitor states and open incidents")
    status.add_argument("--json", action="store_true", help="print JSON")
    _add_config(status)
    incident = _command(sub, "incident", "declare an incident or write an update on one")
    add_incident_arguments(incident)
    return parser


def _handler(name: str) -> Callable[[argparse.Namespace], int]:
    # Imported lazily so `upwatch check` in an image build never imports the daemon's stack.
    if name == "check":
        from upwatch.commands.check import run_check

        return run_check
    if name == "schema":
        from upwatch.commands.schema import run_schema

        return run_schema
    if name == "probe":
        from upwatch.commands.probe import run_probe

        return run_probe
    from upwatch.commands.daemon import COMMANDS

    return COMMANDS[name]


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "config", "unset") is None:
        args.config = default_config_path()
    try:
        return _handler(args.command)(args)
    except UpwatchError as exc:
        if args.debug:
            raise
        print(str(exc) if exc.located else f"upwatch: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_FAILURE
    except BrokenPipeError:  # the reader left early (`upwatch status | head`): nothing to report
        _stdout_to_devnull()
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # a bug: one line unless --debug
        if args.debug:
            raise
        name = type(exc).__name__
        print(f"upwatch: internal error: {name} (rerun with --debug)", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
