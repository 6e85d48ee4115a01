"""Per-instance call capacity: reservations, live streams, lapses, draining."""

from __future__ import annotations

import asyncio

from entrypoints.http.capacity import CallCapacity


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


def test_draining_refuses_new_calls_and_reports_idle_when_the_last_ends() -> None:
    async def scenario() -> None:
        capacity = CallCapacity(5)
        capacity.stream_started("CA1")
        capacity.start_draining()
        assert not capacity.reserve("CA2")
        idle = asyncio.create_task(capacity.wait_idle())
        await asyncio.sleep(0)
        assert not idle.done()
        capacity.stream_ended("CA1")
        await asyncio.wait_for(idle, 1)

    asyncio.run(scenario())
