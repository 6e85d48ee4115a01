"""The `frontdesk` command: serve the API, phone webhooks and console, migrate the
database, manage console accounts (`staff`), and call the server as Twilio would
(`dev-client`)."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence

from adapters.practice_file import PracticeFileError
from adapters.sql import upgrade_to_head
from entrypoints.container import Container
from entrypoints.dev_client.command import add_dev_client_parser, run_dev_client
from entrypoints.observability.logging import configure_logging
from entrypoints.setup import add_setup_parser, run_setup
from entrypoints.staff_command import add_staff_parser, run_staff

log = logging.getLogger("frontdesk")

MAX_WS_MESSAGE_BYTES = 64 * 1024
"""Twilio's media messages are a few KiB; anything far larger is refused by the server."""


def _serve(container: Container, host: str | None, port: int | None, dev: bool) -> int:
    from dependency_injector import providers

    from entrypoints.http.app import create_app
    from entrypoints.server import DrainingServer, uvicorn_config

    container.practice()  # fail now, naming the key, rather than on the first request
    settings = container.settings()
    updates: dict[str, object] = {"dev": settings.dev or dev}
    if host:
        updates["host"] = host
    if port:
        updates["port"] = port
    settings = settings.model_copy(update=updates)
    container.settings.override(providers.Object(settings))
    if not settings.twilio_auth_tokens:
        log.warning(
            "TWILIO_AUTH_TOKEN is not set: Twilio requests are refused%s",
            " except unsigned ones from loopback (--dev)" if settings.dev else "",
        )
    if settings.embedded_database:
        log.info(
            "no DATABASE_URL: using the embedded SQLite file under %s", settings.frontdesk_data_dir
        )
        upgrade_to_head(settings.resolved_database_url())
    config = uvicorn_config(
        create_app(container),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=None,  # keep our logging configuration
        proxy_headers=True,
        ws_max_size=MAX_WS_MESSAGE_BYTES,
    )
    server = DrainingServer(
        config, capacity=container.call_capacity(), drain_timeout_s=settings.drain_timeout_s
    )
    _freeze_startup_objects()
    server.run()
    return 0


def _freeze_startup_objects() -> None:
    """Move everything start-up made (modules, classes, the app: ~130k objects) out of
    the garbage collector's reach. They live as long as the process, and a full
    collection that scans them stalls the event loop, and so every call's audio, for
    tens to hundreds of milliseconds on this class of machine."""
    gc.collect()
    gc.freeze()


def _migrate(container: Container) -> int:
    upgrade_to_head(container.settings().resolved_database_url())
    print("database is at the latest migration")
    return 0


def _check_practice(container: Container) -> int:
    practice = container.practice()
    print(
        f"{practice.name}: {len(practice.providers)} providers, "
        f"{len(practice.services)} services, time zone {practice.time_zone.key}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="frontdesk", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP server (API, webhooks, media stream)")
    serve.add_argument("--host", help="interface to bind (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (default: PORT or 8000)")
    serve.add_argument(
        "--dev",
        action="store_true",
        help="with no TWILIO_AUTH_TOKEN, accept unsigned Twilio requests from loopback",
    )
    commands.add_parser("migrate", help="upgrade the database to the latest migration")
    commands.add_parser("check-practice", help="validate PRACTICE_FILE and summarise it")
    add_setup_parser(commands)
    add_staff_parser(commands)
    add_dev_client_parser(commands)
    args = parser.parse_args(argv)

    container = Container()
    settings = container.settings()
    configure_logging(
        level=settings.log_level, log_format=settings.log_format, secrets=settings.secrets
    )
    try:
        if args.command == "serve":
            return _serve(container, args.host, args.port, args.dev)
        if args.command == "migrate":
            return _migrate(container)
        if args.command == "setup":
            return run_setup(args)
        if args.command == "staff":
            return run_staff(container, args)
        if args.command == "dev-client":
            return run_dev_client(args, settings)
        return _check_practice(container)
    except PracticeFileError as exc:
        print(f"frontdesk: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
