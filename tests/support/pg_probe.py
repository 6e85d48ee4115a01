"""Probing Postgres from a test's own connections: hold locks, and wait until the
server's sessions reach a state (waiting on a lock, idle)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

WAITING_ON_A_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
)
BUSY_ELSEWHERE = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND state <> 'idle'"
)


@asynccontextmanager
async def admin(database_url: str) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


async def until(probe: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            if await probe():
                return
            await asyncio.sleep(0.02)  # polling Postgres or the server


async def count(connection: AsyncConnection, query: Any) -> int:
    """Run a count in a transaction of its own (a snapshot per probe)."""
    value = await connection.scalar(query)
    await connection.commit()
    return int(value or 0)


async def positive(value: Awaitable[int]) -> bool:
    return await value > 0


async def zero(value: Awaitable[int]) -> bool:
    return await value == 0
