"""Session-wide fixtures: a PostgreSQL server, and fresh databases on both engines.

- `postgres_url`: asyncpg URL to the session's server (maintenance database).
- `engine_name`: "postgres" or "sqlite"; tests that use the fixtures below run on both.
- `empty_database_url`: a brand-new, unmigrated database of that engine, dropped after.
- `database_url`: a migrated database with empty tables. On Postgres it is one database
  for the session, emptied (TRUNCATE) before each test: CREATE DATABASE costs ~0.4 s.
- `database`: an `adapters.sql.Database` on `database_url`, disposed after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.sql import Database, upgrade_to_head_async
from tests.support.postgres import (
    PostgresUnavailable,
    postgres_server,
    random_database_name,
    with_database,
)

ENGINES = ["postgres", "sqlite"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    try:
        with postgres_server() as url:
            yield url
    except PostgresUnavailable as error:
        pytest.fail(str(error), pytrace=False)


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
async def empty_database_url(
    engine_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    if engine_name == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'frontdesk.sqlite3'}"
        return
    server: str = request.getfixturevalue("postgres_url")
    name = random_database_name()
    await _admin(server, f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server, name)
    finally:
        await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def migrated_postgres_url(postgres_url: str) -> AsyncIterator[str]:
    """One migrated Postgres database for the session; prefer `database_url`."""
    name = random_database_name()
    await _admin(postgres_url, f'CREATE DATABASE "{name}"')
    url = with_database(postgres_url, name)
    try:
        await upgrade_to_head_async(url)
        yield url
    finally:
        await _admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_EMPTY_ALL_TABLES = """
DO $$ BEGIN
  EXECUTE (
    SELECT 'TRUNCATE ' || string_agg(format('%I', tablename), ', ') || ' CASCADE'
    FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'
  );
END $$
"""


@pytest.fixture
def _database_location(engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    # Synchronous on purpose: an async fixture cannot set up another one lazily.
    if engine_name == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'frontdesk.sqlite3'}"
    url = request.getfixturevalue("migrated_postgres_url")
    assert isinstance(url, str)
    return url


@pytest.fixture
async def database_url(engine_name: str, _database_location: str) -> str:
    if engine_name == "sqlite":
        await upgrade_to_head_async(_database_location)
    else:
        await _admin(_database_location, _EMPTY_ALL_TABLES)
    return _database_location


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database.from_url(database_url)
    try:
        yield db
    finally:
        await db.dispose()
