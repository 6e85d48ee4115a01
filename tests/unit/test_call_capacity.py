"""Per-instance call capacity: reservations, live streams, lapses, draining."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time

from entrypoints.http.capacity import CallCapacity
from entrypoints.settings import Settings
from entrypoints.workers import HostCallState, SharedHostCalls, worker_count


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_calls_past_the_maximum_are_refused_until_one_ends() -> None:
    capacity = CallCapacity(2, clock=Clock())
    assert capacity.reserve("CA1")
    assert capacity.reserve("CA2")
    assert not capacity.reserve("CA3")
    capacity.stream_started("CA1")
    capacity.stream_ended("CA1")
    assert capacity.reserve("CA3")


def test_a_repeated_webhook_for_the_same_call_keeps_its_place() -> None:
    capacity = CallCapacity(1, clock=Clock())
    assert capacity.reserve("CA1")
    assert capacity.reserve("CA1")


def test_a_reservation_whose_stream_never_comes_lapses() -> None:
    clock = Clock()
    capacity = CallCapacity(1, reservation_s=10, clock=clock)
    assert capacity.reserve("CA1")
    clock.now = 11
    assert capacity.reserve("CA2")


def test_draining_waits_for_the_last_call_to_end_and_hand_off() -> None:
    async def scenario() -> None:
        capacity = CallCapacity(5)
        capacity.stream_started("CA1")
        capacity.start_draining()
        assert not capacity.reserve("CA2")
        idle = asyncio.create_task(capacity.wait_idle())
        await asyncio.sleep(0)
        assert not idle.done()
        capacity.stream_ended("CA1")
        await asyncio.sleep(0)
        assert not idle.done(), "Twilio has yet to ask what follows the stream"
        capacity.handed_off("CA1")
        await asyncio.wait_for(idle, 1)

    asyncio.run(scenario())


def test_a_hand_off_that_never_comes_lapses() -> None:
    async def scenario() -> None:
        capacity = CallCapacity(5, handoff_s=0.05)
        capacity.stream_started("CA1")
        capacity.start_draining()
        capacity.stream_ended("CA1")  # the caller hung up: no after-stream request
        started = time.monotonic()
        await asyncio.wait_for(capacity.wait_idle(), 2)
        assert time.monotonic() - started >= 0.04

    asyncio.run(scenario())


def test_ended_calls_are_forgotten_once_their_hand_off_lapses() -> None:
    clock = Clock()
    capacity = CallCapacity(5, handoff_s=5, clock=clock)
    for n in range(100):
        capacity.stream_started(f"CA{n}")
        capacity.stream_ended(f"CA{n}")
        clock.now += 1
    assert len(capacity._handing_off) <= 5


def shared_by(workers: int, max_calls: int, clock: Clock) -> list[CallCapacity]:
    """One `CallCapacity` per worker, sharing the host's calls in shared memory as the
    `serve --workers` supervisor sets them up."""
    state = HostCallState(multiprocessing.get_context("fork"), workers, max_calls)
    return [
        CallCapacity(max_calls, clock=clock, host=SharedHostCalls(state, index, clock))
        for index in range(workers)
    ]


def test_with_workers_the_limit_is_the_hosts_not_each_workers() -> None:
    first, second = shared_by(2, max_calls=3, clock=Clock())
    assert first.reserve("CA1")
    assert second.reserve("CA2")
    assert first.reserve("CA3")
    assert not second.reserve("CA4")
    assert not first.reserve("CA4")
    assert second.reserve("CA1")  # a repeated webhook, on the other worker: still its place
    first.stream_started("CA1")
    first.stream_ended("CA1")  # a place is free on the host: either worker may take it
    assert second.reserve("CA4")
    assert not first.reserve("CA5")


def test_a_stream_on_another_worker_than_its_webhook_spends_the_reservation() -> None:
    first, second = shared_by(2, max_calls=2, clock=Clock())
    assert first.reserve("CA1")
    second.stream_started("CA1")  # counted once, live on the second worker
    assert first.reserve("CA2")
    assert not second.reserve("CA3")
    second.stream_ended("CA1")
    assert first.reserve("CA3")


def test_a_reservation_whose_stream_never_comes_lapses_for_the_whole_host() -> None:
    clock = Clock()
    first, second = shared_by(2, max_calls=1, clock=clock)
    assert first.reserve("CA1")
    assert not second.reserve("CA2")
    clock.now = 21  # reservations last 20 s; the first worker hears nothing more
    assert second.reserve("CA2")
    assert not first.reserve("CA3")


def test_more_than_one_worker_needs_postgres() -> None:
    for sqlite in (None, "sqlite+aiosqlite:///frontdesk.sqlite3"):
        count, reason = worker_count(Settings(database_url=sqlite, workers=4))
        assert count == 1
        assert reason is not None
        assert reason.startswith("SQLite takes one writer")
    postgres = "postgresql+asyncpg://u:p@db/frontdesk"
    assert worker_count(Settings(database_url=postgres)) == (len(os.sched_getaffinity(0)), None)
    assert worker_count(Settings(database_url=postgres, workers=3)) == (3, None)


async def test_the_worker_that_reserved_is_told_when_the_stream_started_on_another() -> None:
    state = HostCallState(multiprocessing.get_context("fork"), 2, max_calls=5)
    try:
        first, second = (SharedHostCalls(state, index) for index in (0, 1))
        told: asyncio.Queue[str] = asyncio.Queue()
        first.watch(told.put_nowait)
        assert first.reserve("twilio:CA1", time.monotonic() + 20, 5)
        assert first.reserve("twilio:CA2", time.monotonic() + 20, 5)
        first.started("twilio:CA2", live_here=1)  # its own: nobody is told
        second.started("twilio:CA1", live_here=1)
        assert await asyncio.wait_for(told.get(), 2) == "twilio:CA1"
        assert told.empty()
    finally:
        asyncio.get_running_loop().remove_reader(state.wakeups[0][0])
        state.close()
