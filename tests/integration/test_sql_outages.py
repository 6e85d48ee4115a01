"""Losing the database: `StorageUnavailable` while it is gone, normal service once back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.sql import Database
from application.errors import StorageUnavailable
from application.scheduling import FindAppointments
from tests.integration.conftest import booking, build_scheduling
from tests.support.postgres import with_database
from tests.support.tcp_proxy import TcpProxy, proxied_database


@pytest.fixture
async def proxied(database_url: str) -> AsyncIterator[tuple[TcpProxy, Database]]:
    """A migrated Postgres database reached through a proxy the test can cut."""
    async with proxied_database(database_url) as proxy_and_database:
        yield proxy_and_database


async def test_an_unreachable_postgres_raises_storage_unavailable() -> None:
    closed = TcpProxy("127.0.0.1", 1)  # never started: nothing listens on its port
    database = Database.from_url(f"postgresql+asyncpg://postgres@127.0.0.1:{closed.port}/x")
    scheduling = build_scheduling(database)
    try:
        with pytest.raises(StorageUnavailable):
            await scheduling.book(booking(10))
        with pytest.raises(StorageUnavailable):
            await scheduling.find(FindAppointments())
        assert not await database.ping()
        assert not await database.migrations_at_head()
    finally:
        await database.dispose()


async def test_an_unopenable_sqlite_file_raises_storage_unavailable(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path}")  # a directory
    scheduling = build_scheduling(database)
    try:
        with pytest.raises(StorageUnavailable):
            await scheduling.book(booking(10))
        assert not await database.ping()
    finally:
        await database.dispose()


@pytest.mark.parametrize("engine_name", ["postgres"])
async def test_storage_is_unavailable_while_postgres_is_down_and_recovers_after(
    proxied: tuple[TcpProxy, Database],
) -> None:
    proxy, database = proxied
    scheduling = build_scheduling(database)
    await scheduling.book(booking(9))  # leaves a pooled connection behind

    await proxy.stop()
    with pytest.raises(StorageUnavailable):
        await scheduling.book(booking(10))
    with pytest.raises(StorageUnavailable):
        await scheduling.find(FindAppointments())
    assert not await database.ping()

    await proxy.start()
    assert await database.ping()
    await scheduling.book(booking(10))
    assert (await scheduling.find(FindAppointments())).total == 2


@pytest.mark.parametrize("engine_name", ["postgres"])
async def test_connections_the_server_killed_are_replaced_without_an_error(
    database: Database, database_url: str, postgres_url: str
) -> None:
    scheduling = build_scheduling(database)
    await scheduling.book(booking(9))  # leaves a pooled connection behind
    name = make_url(database_url).database

    admin = create_async_engine(
        with_database(postgres_url, "postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        async with admin.connect() as connection:
            killed = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
    finally:
        await admin.dispose()
    assert killed

    await scheduling.book(booking(10))
    assert (await scheduling.find(FindAppointments())).total == 2
