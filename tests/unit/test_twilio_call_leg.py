"""`TwilioCallLeg` write ordering against an in-memory socket whose sends can be held."""

from __future__ import annotations

import asyncio
import json

import pytest

from adapters.twilio.call_leg import MAX_PLAY_BYTES, StreamNotStarted, TwilioCallLeg
from application.ports import CallOutcome
from domain.calls import NextStep

STREAM = "MZ" + "a" * 32
START = json.dumps(
    {
        "event": "start",
        "sequenceNumber": "1",
        "streamSid": STREAM,
        "start": {
            "accountSid": "AC" + "b" * 32,
            "streamSid": STREAM,
            "callSid": "CA" + "c" * 32,
            "tracks": ["inbound"],
            "customParameters": {},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
    }
)


class HeldSocket:
    """A `TextSocket` fake: inbound frames from a list; each send waits for `gate`."""

    def __init__(self, frames: list[str | None]) -> None:
        self.frames = frames
        self.sent: list[dict[str, object]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.in_flight = asyncio.Event()
        self.closed_with: tuple[int, str] | None = None
        self.fail_sends = False

    async def receive_text(self) -> str | None:
        return self.frames.pop(0) if self.frames else None

    async def send_text(self, data: str) -> None:
        if self.fail_sends:
            raise ConnectionResetError("peer gone")
        self.in_flight.set()
        await self.gate.wait()
        self.sent.append(json.loads(data))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with = (code, reason)


async def _leg(socket: HeldSocket) -> TwilioCallLeg:
    socket.frames[:0] = ['{"event":"connected","protocol":"Call","version":"1.0.0"}', START]
    return await TwilioCallLeg.open(socket, start_timeout_s=1)


async def test_interrupt_waits_only_for_the_frame_in_flight_and_drops_the_rest() -> None:
    socket = HeldSocket([])
    leg = await _leg(socket)
    socket.gate.clear()
    playing = asyncio.create_task(leg.play(bytes(MAX_PLAY_BYTES * 5)))
    waiting = asyncio.create_task(leg.play(bytes(160)))
    await socket.in_flight.wait()
    clearing = asyncio.create_task(leg.interrupt())
    await asyncio.sleep(0)
    socket.gate.set()
    await asyncio.gather(playing, waiting, clearing)
    assert [m["event"] for m in socket.sent] == ["media", "clear"]


async def test_a_turns_mark_queued_before_an_interrupt_is_still_sent_before_its_clear() -> None:
    socket = HeldSocket([])
    leg = await _leg(socket)
    socket.gate.clear()
    playing = asyncio.create_task(leg.play(bytes(160)))
    await socket.in_flight.wait()
    marking = asyncio.create_task(leg.finish_turn(1))
    await asyncio.sleep(0)
    clearing = asyncio.create_task(leg.interrupt())
    await asyncio.sleep(0)
    socket.gate.set()
    await asyncio.gather(playing, marking, clearing)
    assert [m["event"] for m in socket.sent] == ["media", "mark", "clear"]


async def test_a_failed_send_closes_the_leg_quietly() -> None:
    socket = HeldSocket([])
    leg = await _leg(socket)
    socket.fail_sends = True
    await leg.play(bytes(160))
    assert leg.closed
    socket.fail_sends = False
    await leg.finish_turn(2)
    assert socket.sent == []


async def test_end_is_idempotent_and_closes_normally() -> None:
    socket = HeldSocket([])
    leg = await _leg(socket)
    await leg.end(CallOutcome(step=NextStep.HANG_UP))
    await leg.end(CallOutcome(step=NextStep.HANG_UP))
    assert socket.closed_with == (1000, "")


async def test_a_start_that_never_comes_times_out() -> None:
    class Silent(HeldSocket):
        async def receive_text(self) -> str | None:
            await asyncio.Event().wait()
            return None

    with pytest.raises(StreamNotStarted, match="no start"):
        await TwilioCallLeg.open(Silent([]), start_timeout_s=0.05)


class SilentSocket(HeldSocket):
    """Delivers its frames, then nothing at all (not even a close)."""

    async def receive_text(self) -> str | None:
        if self.frames:
            return self.frames.pop(0)
        await asyncio.Event().wait()
        return None


async def test_a_stream_that_goes_silent_counts_as_a_hang_up() -> None:
    socket = SilentSocket(['{"event":"connected","protocol":"Call","version":"1.0.0"}', START])
    leg = await TwilioCallLeg.open(socket, start_timeout_s=1, idle_timeout_s=0.05)
    events = [event async for event in leg.events()]
    assert [type(e).__name__ for e in events] == ["CallerHungUp"]
    assert leg.idle_timed_out
