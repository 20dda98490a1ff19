"""Commands that work on the database: `run`, `migrate` and `status`."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Callable

from upwatch.errors import UpwatchError


def run_daemon_command(args: argparse.Namespace) -> int:
    from upwatch.commands.check import print_warnings
    from upwatch.config.loader import load_config
    from upwatch.runtime import workers
    from upwatch.runtime.daemon import run_daemon
    from upwatch.runtime.logs import configure_logging
    from upwatch.runtime.settings import Settings

    loaded = load_config(args.config)  # exit 2 before anything else when the config is invalid
    worker = workers.LISTEN_FD in os.environ  # started by a parent that said it all already
    if not worker:
        print_warnings(loaded)
    settings = Settings.from_env()
    count = 1 if worker else workers.worker_count(args.workers or os.environ.get("UPWATCH_WORKERS"))
    if count > 1:
        configure_logging(settings.log_level, settings.log_format, settings.secrets())
        supervisor = workers.Supervisor(str(args.config), settings.host, settings.port, count)
        return supervisor.run()
    try:
        import uvloop  # a faster event loop where it is available (not on Windows)
    except ImportError:
        return asyncio.run(run_daemon(loaded, settings))
    return uvloop.run(run_daemon(loaded, settings))


def run_migrate(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from upwatch.runtime.database_errors import describe_database_error
    from upwatch.runtime.settings import Settings
    from upwatch.store.database import create_engine, safe_url
    from upwatch.store.migrate import head_revision, migrate

    settings = Settings.from_env()

    async def go() -> None:
        engine = create_engine(settings.database_url)
        try:
            await migrate(engine)
        except (OSError, SQLAlchemyError) as exc:
            where = safe_url(settings.database_url)
            reason = describe_database_error(exc)
            raise UpwatchError(f"cannot migrate the database at {where}: {reason}") from None
        finally:
            await engine.dispose()

    asyncio.run(go())
    print(f"ok: database at revision {head_revision()}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from upwatch.commands.status import show_status

    return show_status(args)


def run_incident(args: argparse.Namespace) -> int:
    from upwatch.commands.incident import run_incident as write

    return write(args)


def run_notify_test(args: argparse.Namespace) -> int:
    from upwatch.commands import notify_test

    return notify_test.run_notify_test(args)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": run_daemon_command,
    "notify-test": run_notify_test,
    "migrate": run_migrate,
    "status": run_status,
    "incident": run_incident,
}
