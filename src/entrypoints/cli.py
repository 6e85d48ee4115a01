"""The `frontdesk` command: serve the API, phone webhooks and console, migrate the
database, check the set-up (`doctor`), manage console accounts (`staff`), call the
server as Twilio would (`dev-client`), hear a scripted call (`demo`) and test the
receptionist against scenarios (`eval`)."""

# Start-up time is part of the interface: `frontdesk --help` and the small commands must
# answer at once, so this module imports only the standard library. Each command imports
# what it needs when it runs (the server's libraries take seconds to load).

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from entrypoints.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    from entrypoints.demo import add_demo_parser
    from entrypoints.dev_client.arguments import add_dev_client_parser
    from entrypoints.doctor import add_doctor_parser
    from entrypoints.evals.arguments import add_eval_parser
    from entrypoints.setup import add_setup_parser
    from entrypoints.staff_command import add_staff_parser

    parser = argparse.ArgumentParser(prog="frontdesk", description=__doc__)
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback when a command fails"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP server (API, webhooks, media stream)")
    serve.add_argument("--host", help="interface to bind (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (default: PORT or 8000)")
    serve.add_argument(
        "--dev",
        action="store_true",
        help="with no TWILIO_AUTH_TOKEN, accept unsigned Twilio requests from loopback",
    )
    serve.add_argument(
        "--workers",
        type=_at_least_one,
        help="server processes sharing the port (default: WORKERS, or one per core on "
        "Postgres; one on SQLite)",
    )
    commands.add_parser("migrate", help="upgrade the database to the latest migration")
    commands.add_parser("check-practice", help="validate PRACTICE_FILE and summarise it")
    add_doctor_parser(commands)
    add_setup_parser(commands)
    add_staff_parser(commands)
    add_dev_client_parser(commands)
    add_demo_parser(commands)
    add_eval_parser(commands)
    for command in commands.choices.values():  # `frontdesk serve --debug` works too
        command.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="show the traceback when the command fails",
        )
    return parser


def _at_least_one(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {number}")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    """Exit status: 0 done, 1 a failure (one `error: ...` line on stderr, naming the
    setting or cause; the traceback too with `--debug`), 2 bad arguments (argparse)."""
    args = build_parser().parse_args(argv)
    secrets: list[str] = []
    try:
        if args.command == "doctor":  # reports unparseable settings as one of its checks
            from entrypoints.doctor import run_doctor

            return run_doctor(args)
        settings = _settings(args.command)
        secrets = settings.secrets
        return _run(args, settings)
    except Exception as error:
        from entrypoints.failures import report

        if args.debug:
            traceback.print_exc()
        report(error, secrets=secrets)
        return 1


LOGGING_COMMANDS = frozenset({"serve", "migrate", "setup", "dev-client"})
"""Commands that log; the others only print, and skip loading structlog (~0.4 s)."""


def _settings(command: str) -> Settings:
    from entrypoints.settings import Settings

    settings = Settings()
    if command in LOGGING_COMMANDS:
        from entrypoints.observability.logging import configure_logging

        configure_logging(
            level=settings.log_level, log_format=settings.log_format, secrets=settings.secrets
        )
    return settings


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "serve":
        from entrypoints.commands import serve

        updates: dict[str, object] = {"dev": settings.dev or args.dev}
        if args.host:
            updates["host"] = args.host
        if args.port:
            updates["port"] = args.port
        if args.workers is not None:
            updates["workers"] = args.workers
        return serve(settings.model_copy(update=updates))
    if args.command == "migrate":
        from entrypoints.commands import migrate

        return migrate(settings)
    if args.command == "check-practice":
        from entrypoints.commands import check_practice

        return check_practice(settings)
    if args.command == "setup":
        from entrypoints.setup import run_setup

        return run_setup(args)
    if args.command == "staff":
        from dependency_injector import providers

        from entrypoints.container import Container
        from entrypoints.staff_command import run_staff

        container = Container()
        container.settings.override(providers.Object(settings))
        return run_staff(container, args)
    if args.command == "demo":
        from entrypoints.demo import run_demo

        return run_demo(args, settings)
    if args.command == "eval":
        from entrypoints.evals.command import run_eval

        return run_eval(args, settings)
    from entrypoints.dev_client.command import run_dev_client

    return run_dev_client(args, settings)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
