"""The database handle: one engine and session factory per process, for Postgres or SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


class Database:
    """Owns the engine; `dispose` it at shutdown.

    Postgres (asyncpg) pings pooled connections before use, so a restarted server is
    picked up without restarting the process. SQLite runs every transaction as
    `BEGIN IMMEDIATE`: writers queue on the file lock (up to the busy timeout) instead of
    failing with "database is locked" when they upgrade a read lock.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    @classmethod
    def from_url(cls, url: str) -> Database:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            return cls(_sqlite_engine(parsed))
        connect_args: dict[str, Any] = {}
        if parsed.get_driver_name() == "asyncpg":
            connect_args["timeout"] = POSTGRES_CONNECT_TIMEOUT_S
        return cls(create_async_engine(parsed, pool_pre_ping=True, connect_args=connect_args))

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def session(self) -> AsyncSession:
        return self.sessions()

    async def dispose(self) -> None:
        await self.engine.dispose()

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
        heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
        try:
            async with self.engine.connect() as connection:
                current = await connection.run_sync(_current_heads)
        except Exception as error:
            if is_connectivity_error(error):
                return False
            raise
        return current == heads


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
