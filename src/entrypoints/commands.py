"""The `serve`, `migrate` and `check-practice` commands. Each imports its libraries when
it runs: SQLAlchemy, Litestar and uvicorn take seconds to load, the practice file not."""

from __future__ import annotations

import gc
import logging
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from entrypoints.failures import OperatorError
from entrypoints.settings import Settings

if TYPE_CHECKING:
    from entrypoints.http.capacity import HostCalls

log = logging.getLogger("frontdesk")

MAX_WS_MESSAGE_BYTES = 64 * 1024
"""Twilio's media messages are a few KiB; anything far larger is refused by the server."""

MIGRATE = "run `frontdesk migrate` (with the same DATABASE_URL), then start again"


def serve(settings: Settings) -> int:
    """Run the server until SIGTERM (drained) or Ctrl-C: in this process, or as
    `--workers` processes sharing the port (`entrypoints.workers`). Refuses to start,
    before binding the port, on a broken practice file or a database whose schema is not
    this version's; an unreachable database only warns (the webhook must answer even
    then)."""
    from entrypoints.workers import supervise, worker_count

    count, reason = worker_count(settings)
    if reason is not None and settings.workers is not None and settings.workers > 1:
        raise OperatorError(
            "WORKERS",
            f"more than one worker needs Postgres ({reason})",
            "set DATABASE_URL to a Postgres database, or run one worker",
        )
    if count == 1:
        prepare(settings)
        if reason is not None:
            log.info("one worker: %s", reason)
        run_server(settings)
        return 0
    return supervise(settings, count, prepare=lambda: prepare(settings))


def prepare(settings: Settings) -> None:
    """The checks that would fail every worker alike, and the embedded database's
    migration (one process may migrate)."""
    from dependency_injector import providers

    from adapters.sql import upgrade_to_head
    from entrypoints.container import Container

    container = Container()
    container.settings.override(providers.Object(settings))
    container.practice()  # fail now, naming the key, rather than on the first request
    container.voice_agent()  # and the agent provider's own section of the practice file
    url = settings.resolved_database_url()
    if settings.embedded_database:
        log.info(
            "no DATABASE_URL: using the embedded SQLite file under %s", settings.frontdesk_data_dir
        )
        upgrade_to_head(url)
    else:
        require_current_schema(url)
    if not settings.twilio_auth_tokens:
        log.warning(
            "TWILIO_AUTH_TOKEN is not set: Twilio requests are refused%s",
            " except unsigned ones from loopback (--dev)" if settings.dev else "",
        )


def run_server(
    settings: Settings,
    *,
    host: HostCalls | None = None,
    listener: socket.socket | None = None,
    on_serving: Callable[[], None] | None = None,
) -> None:
    """Serve in this process until it is stopped: binding the port itself, or accepting
    on `listener` with its call count shared through `host` and telling `on_serving`
    once it accepts (a worker)."""
    from dependency_injector import providers

    from entrypoints.container import Container
    from entrypoints.http.app import create_app
    from entrypoints.http.capacity import CallCapacity
    from entrypoints.server import DrainingServer, uvicorn_config

    container = Container()
    container.settings.override(providers.Object(settings))
    if host is not None:
        container.call_capacity.override(
            providers.Singleton(CallCapacity, max_calls=settings.max_concurrent_calls, host=host)
        )
    config = uvicorn_config(
        create_app(container),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=None,  # keep our logging configuration
        proxy_headers=True,
        ws_max_size=MAX_WS_MESSAGE_BYTES,
    )

    def serving() -> None:
        warm = container.warm_agents()
        if host is not None and warm is not None:
            # A call this worker admitted whose stream went to another worker: the
            # agent conversation opened for it here (under the same key) will not be taken.
            host.watch(warm.discard)
        if on_serving is not None:
            on_serving()

    server = DrainingServer(
        config,
        capacity=container.call_capacity(),
        drain_timeout_s=settings.drain_timeout_s,
        on_serving=serving,
    )
    _freeze_startup_objects()
    server.run(sockets=None if listener is None else [listener])


def require_current_schema(url: str) -> None:
    """Raise `OperatorError` unless the schema at `url` is this version's. A database
    that cannot be reached is logged and let through: `/readyz` reports it until it
    comes back, and calls are still answered (put through to the front desk)."""
    from adapters.sql import describe_database_failure, schema_status_at

    try:
        status = schema_status_at(url)
    except Exception as error:
        described = describe_database_failure(error, url)
        if described is None:
            raise
        log.warning("database: %s; starting anyway, /readyz reports not ready", described)
        return
    if status == "missing":
        raise OperatorError("DATABASE_URL", "the database has no schema yet", MIGRATE)
    if status == "behind":
        raise OperatorError("DATABASE_URL", "the database schema is older than this code", MIGRATE)
    if status == "ahead":
        raise OperatorError(
            "DATABASE_URL",
            "the database schema is newer than this code (a newer release migrated it)",
            "run the newer release against this database",
        )


def _freeze_startup_objects() -> None:
    """Move everything start-up made (modules, classes, the app: ~130k objects) out of
    the garbage collector's reach. They live as long as the process, and a full
    collection that scans them stalls the event loop, and so every call's audio, for
    tens to hundreds of milliseconds on this class of machine."""
    gc.collect()
    gc.freeze()


def migrate(settings: Settings) -> int:
    from adapters.sql import upgrade_to_head

    url = settings.resolved_database_url()
    with database_failures_named(url):
        upgrade_to_head(url)
    print("database is at the latest migration")
    return 0


@contextmanager
def database_failures_named(url: str) -> Iterator[None]:
    """Turn a failure to reach the database into an `OperatorError` on DATABASE_URL."""
    from adapters.sql import describe_database_failure

    try:
        yield
    except Exception as error:
        described = describe_database_failure(error, url)
        if described is None:
            raise
        raise OperatorError(
            "DATABASE_URL", described, "check the URL and the database server"
        ) from error


def check_practice(settings: Settings) -> int:
    from adapters.practice_file import load_practice

    practice = load_practice(settings.practice_file, settings.default_region)
    print(
        f"{practice.name}: {len(practice.providers)} providers, "
        f"{len(practice.services)} services, time zone {practice.time_zone.key}"
    )
    return 0
