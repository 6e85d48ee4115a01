"""Per-instance call capacity: reservations, live streams, lapses, draining."""

from __future__ import annotations

import asyncio
import time

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
