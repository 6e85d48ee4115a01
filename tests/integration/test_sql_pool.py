"""The Postgres pool is opened at start-up, so a burst of calls does not wait on connecting."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.sql import Database
from tests.support.tcp_proxy import TcpProxy, proxied_database

POOL_SIZE = 4


@pytest.fixture
async def counted(database_url: str) -> AsyncIterator[tuple[TcpProxy, Database]]:
    """A Postgres database reached through a proxy that counts the connections made."""
    async with proxied_database(database_url, pool_size=POOL_SIZE) as proxy_and_database:
        yield proxy_and_database


async def burst(database: Database, size: int) -> None:
    """`size` transactions that all hold a connection at the same moment."""
    together = asyncio.Barrier(size)

    async def one() -> None:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            await together.wait()

    await asyncio.gather(*(one() for _ in range(size)))


@pytest.mark.parametrize("engine_name", ["postgres"])
async def test_warm_up_opens_the_whole_pool_and_a_burst_then_connects_nothing_new(
    counted: tuple[TcpProxy, Database],
) -> None:
    proxy, database = counted

    assert await database.warm_up() == POOL_SIZE
    assert proxy.accepted == POOL_SIZE
    await burst(database, POOL_SIZE)
    assert proxy.accepted == POOL_SIZE


@pytest.mark.parametrize("engine_name", ["postgres"])
async def test_a_burst_past_the_pool_is_still_served_by_extra_connections(
    counted: tuple[TcpProxy, Database],
) -> None:
    proxy, database = counted
    await database.warm_up()

    await burst(database, 2 * POOL_SIZE)
    assert proxy.accepted == 2 * POOL_SIZE


async def test_warm_up_with_postgres_down_opens_nothing_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed = TcpProxy("127.0.0.1", 1)  # never started: nothing listens on its port
    database = Database.from_url(
        f"postgresql+asyncpg://postgres@127.0.0.1:{closed.port}/x", pool_size=POOL_SIZE
    )
    try:
        with caplog.at_level(logging.WARNING, logger="adapters.sql.database"):
            assert await database.warm_up() == 0
    finally:
        await database.dispose()
    assert f"0 of {POOL_SIZE} pooled connections opened" in caplog.text


async def test_sqlite_has_no_pool_to_warm(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3")
    try:
        assert await database.warm_up() == 0
    finally:
        await database.dispose()
