"""The one place where database exceptions become domain and application errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy import exc as sa_exc

from adapters.sql.tables import IDEMPOTENCY_PKEY, NO_OVERLAP
from application.errors import DuplicateIdempotencyKey, StorageUnavailable
from domain.scheduling import SlotTaken

_SQLITE_IDEMPOTENCY_PKEY = "UNIQUE constraint failed: idempotency_keys.scope, idempotency_keys.key"

_CONNECTIVITY = (
    OSError,
    TimeoutError,
    sa_exc.TimeoutError,  # the pool had no connection to give in time
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
)


def constraint_name(error: sa_exc.IntegrityError) -> str | None:
    """The violated constraint: asyncpg reports its name; SQLite only a message."""
    cause = error.orig.__cause__ if error.orig is not None else None
    name = getattr(cause, "constraint_name", None)
    if isinstance(name, str):
        return name
    message = str(error.orig)
    if NO_OVERLAP in message:
        return NO_OVERLAP
    if _SQLITE_IDEMPOTENCY_PKEY in message:
        return IDEMPOTENCY_PKEY
    return None


def is_connectivity_error(error: BaseException) -> bool:
    """The database is unreachable or lost the connection, as opposed to refusing data."""
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        return isinstance(error.orig, _CONNECTIVITY) or isinstance(
            error.orig.__cause__ if error.orig is not None else None, _CONNECTIVITY
        )
    return isinstance(error, _CONNECTIVITY)


_DEADLOCK = "40P01"


def translate(error: Exception) -> Exception | None:
    """The error to raise instead of `error`, or None to let it through unchanged."""
    if isinstance(error, sa_exc.DBAPIError) and getattr(error.orig, "sqlstate", None) == _DEADLOCK:
        # Two transactions inserting overlapping bookings can each find the other's
        # uncommitted row under the exclusion constraint and wait on each other;
        # Postgres aborts one. Our write transactions contend on nothing else, so the
        # one aborted lost the race for the slot.
        return SlotTaken()
    if isinstance(error, sa_exc.IntegrityError):
        name = constraint_name(error)
        if name == NO_OVERLAP:
            return SlotTaken()
        if name == IDEMPOTENCY_PKEY:
            return DuplicateIdempotencyKey()
    if is_connectivity_error(error):
        return StorageUnavailable()
    return None


@asynccontextmanager
async def translated_errors() -> AsyncIterator[None]:
    """Run a block of database work, raising our errors for the database's."""
    try:
        yield
    except Exception as error:
        replacement = translate(error)
        if replacement is None:
            raise
        raise replacement from error
