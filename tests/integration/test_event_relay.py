"""The live call events relay over a real Postgres: what one process sends, the others
receive; never its own, never a payload Postgres would refuse."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from adapters.sql.event_relay import MAX_PAYLOAD_BYTES, PostgresEventRelay, asyncpg_dsn


@pytest.fixture
def engine_name() -> str:
    return "postgres"


@contextlib.asynccontextmanager
async def running(relay: PostgresEventRelay) -> AsyncIterator[PostgresEventRelay]:
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(10):
            await relay.listening.wait()
        yield relay
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_events_sent_by_one_relay_reach_the_others_and_not_itself(
    database_url: str,
) -> None:
    dsn = asyncpg_dsn(database_url)
    got_a: list[tuple[str, str]] = []
    got_b: list[tuple[str, str]] = []
    arrived = asyncio.Event()

    def deliver_b(call_id: str, payload: str) -> None:
        got_b.append((call_id, payload))
        arrived.set()

    async with (
        running(PostgresEventRelay(dsn, lambda c, p: got_a.append((c, p)))) as a,
        running(PostgresEventRelay(dsn, deliver_b)),
    ):
        a.send("call-1", "x" * (MAX_PAYLOAD_BYTES + 1))  # too large for NOTIFY: dropped
        a.send("call-1", '{"type":"barge_in"}')
        async with asyncio.timeout(10):
            await arrived.wait()
        assert a.dropped == 1
    assert got_b == [("call-1", '{"type":"barge_in"}')]
    assert got_a == []  # its own notification is skipped


def test_a_sqlalchemy_url_becomes_an_asyncpg_dsn() -> None:
    dsn = asyncpg_dsn("postgresql+asyncpg://fd:s%40cret@db.example:5433/frontdesk")
    assert dsn == "postgresql://fd:s%40cret@db.example:5433/frontdesk"
