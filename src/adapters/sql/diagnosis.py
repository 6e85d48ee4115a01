"""Why a database could not be used, in an operator's words: one sentence naming the
cause (refused, unknown host, wrong password, no such database) without the password."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url


def describe_database_failure(error: BaseException, url: str) -> str | None:
    """A sentence for a failure to reach or open the database at `url`, or None when
    `error` is not one (a bug, a failing migration: the caller reports those as they
    are). Only the host, port and database name of `url` are ever quoted."""
    if isinstance(error, sa_exc.ArgumentError | sa_exc.NoSuchModuleError):
        return (
            "not a database URL this server understands; expected "
            "postgresql://user:password@host:5432/dbname"
        )
    where = _where(url)
    for cause in _chain(error):
        if isinstance(cause, socket.gaierror):
            return f"unknown host in {where}"
        if isinstance(cause, ConnectionRefusedError):
            return f"nothing accepts connections at {where} (is Postgres running?)"
        if isinstance(cause, TimeoutError):
            return f"no answer from {where} in time (a firewall, or the wrong host?)"
        if isinstance(
            cause, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
        ):
            return f"{where} refused the user name or password"
        if isinstance(cause, asyncpg.InvalidCatalogNameError):
            return f"{where}: the database does not exist (create it, or fix the name)"
        if isinstance(cause, sqlite3.DatabaseError) and "not a database" in str(cause):
            return f"{where} is not a SQLite database"
        if isinstance(cause, OSError):
            return f"cannot connect to {where} ({cause.strerror or type(cause).__name__})"
    return None


def _where(url: str) -> str:
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError:
        return "the database"
    if parsed.get_backend_name() == "sqlite":
        return f"the SQLite file {parsed.database}"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error`, the driver error SQLAlchemy wrapped, and their causes, each once."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]
