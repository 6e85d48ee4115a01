"""The database handle: one engine and session factory per process, for Postgres or SQLite."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Literal

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from adapters.sql.alembic_setup import alembic_config
from adapters.sql.errors import is_connectivity_error

SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_CONNECT_TIMEOUT_S = 5
DEFAULT_POOL_SIZE = 10

log = logging.getLogger(__name__)


class Database:
    """Owns the engine; `dispose` it at shutdown.

    Postgres (asyncpg) pings pooled connections before use, so a restarted server is
    picked up without restarting the process. SQLite runs every transaction as
    `BEGIN IMMEDIATE`: writers queue on the file lock (up to the busy timeout) instead of
    failing with "database is locked" when they upgrade a read lock.
    """

    def __init__(self, engine: AsyncEngine, *, pool_size: int = 0) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self._pool_size = pool_size

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> Database:
        """Postgres keeps `pool_size` connections open, and opens as many again for a
        burst (closed once returned)."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            return cls(_sqlite_engine(parsed))
        connect_args: dict[str, Any] = {}
        if parsed.get_driver_name() == "asyncpg":
            connect_args["timeout"] = POSTGRES_CONNECT_TIMEOUT_S
        engine = create_async_engine(
            parsed,
            pool_pre_ping=True,
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_args=connect_args,
        )
        return cls(engine, pool_size=pool_size)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def session(self) -> AsyncSession:
        return self.sessions()

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def warm_up(self) -> int:
        """Open the pool's connections now, all at once, and keep them pooled; how many.

        Connecting costs tens of milliseconds (TCP, authentication, the driver's set-up),
        and a pool that fills on demand pays it inside the first calls' tool calls, just
        when a burst of calls arrives. Best effort: a database that is down leaves the
        pool to fill later, as it would have."""
        if self._pool_size == 0:
            return 0
        connections = [self.engine.connect() for _ in range(self._pool_size)]
        started = await asyncio.gather(*(c.start() for c in connections), return_exceptions=True)
        opened = [c for c in started if not isinstance(c, BaseException)]
        for connection in opened:
            await connection.close()  # back to the pool, which keeps it open
        failed = next((c for c in started if isinstance(c, BaseException)), None)
        if failed is not None:
            log.warning(
                "database: %d of %d pooled connections opened at start-up (%s)",
                len(opened),
                self._pool_size,
                type(failed).__name__,
            )
        return len(opened)

    async def ping(self) -> bool:
        """True when a `SELECT 1` round trip succeeds; False on any database failure."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError):
            return False
        return True

    async def migrations_at_head(self) -> bool:
        """True when the schema is at the newest migration; False if behind or unreachable."""
        try:
            return await self.schema_status() == "ok"
        except Exception as error:
            if is_connectivity_error(error):
                return False
            raise

    async def schema_status(self) -> SchemaStatus:
        """Where the schema stands against this code's migrations: `ok` at the newest,
        `missing` when never migrated, `behind` when an older revision, `ahead` when a
        revision this code does not know (a newer release migrated it). Connection
        failures propagate: the caller decides whether an unreachable database is fatal."""
        scripts = ScriptDirectory.from_config(alembic_config())
        async with self.engine.connect() as connection:
            current = await connection.run_sync(_current_heads)
        return _compare(
            current, set(scripts.get_heads()), {s.revision for s in scripts.walk_revisions()}
        )


SchemaStatus = Literal["ok", "missing", "behind", "ahead"]


def _compare(current: set[str], heads: set[str], known: set[str]) -> SchemaStatus:
    if not current:
        return "missing"
    if current == heads:
        return "ok"
    return "behind" if current <= known else "ahead"


def _current_heads(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


def _sqlite_engine(url: URL) -> AsyncEngine:
    if url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" below decide when transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
