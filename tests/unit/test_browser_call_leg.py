"""`BrowserCallLeg` against an in-memory socket: start first, ordering, turns,
interrupt, end, and strict reading."""

from __future__ import annotations

import asyncio
import json

import pytest

from adapters.browser.call_leg import BrowserCallLeg, StreamNotStarted, read_start
from adapters.browser.codec import Start
from application.ports.voice import (
    AudioEncoding,
    CallerAudio,
    CallerDtmf,
    CallerEvent,
    CallerHungUp,
    CallOutcome,
    TurnPlayed,
)
from domain.calls import NextStep


class MemorySocket:
    """A `FrameSocket` fake: inbound frames from a list (then closed); sends recorded."""

    def __init__(self, inbound: list[str | bytes] | None = None) -> None:
        self.inbound: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        for frame in inbound or []:
            self.inbound.put_nowait(frame)
        self.sent: list[str | bytes] = []
        self.closed: tuple[int, str] | None = None

    def hang_up(self) -> None:
        self.inbound.put_nowait(None)

    async def receive_frame(self) -> str | bytes | None:
        return await self.inbound.get()

    async def receive_text(self) -> str | None:
        frame = await self.receive_frame()
        return frame if isinstance(frame, str) or frame is None else ""

    async def send_text(self, data: str) -> None:
        self.sent.append(data)

    async def send_bytes(self, data: bytes) -> None:
        self.sent.append(data)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)

    def controls(self) -> list[dict[str, object]]:
        return [json.loads(f) for f in self.sent if isinstance(f, str)]


async def events_of(leg: BrowserCallLeg) -> list[CallerEvent]:
    return [event async for event in leg.events()]


async def test_the_leg_speaks_16_khz_linear_pcm_as_the_browser_carrier() -> None:
    leg = BrowserCallLeg(MemorySocket(), "web-abc-1")
    assert (leg.carrier, leg.carrier_call_id) == ("browser", "web-abc-1")
    assert leg.audio_format.encoding is AudioEncoding.LINEAR16
    assert leg.audio_format.sample_rate_hz == 16000


async def test_the_start_frame_must_come_first() -> None:
    assert await read_start(
        MemorySocket(['{"type":"start","call":"c","token":"t"}']), timeout_s=1
    ) == Start(call="c", token="t")
    with pytest.raises(StreamNotStarted):
        await read_start(MemorySocket([bytes(640)]), timeout_s=1)
    socket = MemorySocket()
    socket.hang_up()
    with pytest.raises(StreamNotStarted):
        await read_start(socket, timeout_s=1)


async def test_page_frames_become_caller_events_and_bad_ones_are_counted_and_skipped() -> None:
    socket = MemorySocket(
        [
            bytes(640),
            b"\x00",
            '{"type":"dtmf","digit":"5"}',
            "{broken",
            '{"type":"mute"}',
            '{"type":"start","call":"c","token":"t"}',
            '{"type":"played","turn":1}',
            '{"type":"hangup"}',
            bytes(640),  # after the hang-up: never read
        ]
    )
    leg = BrowserCallLeg(socket, "c")
    assert await events_of(leg) == [
        CallerAudio(bytes(640)),
        CallerDtmf("5"),
        TurnPlayed(1),
        CallerHungUp(),
    ]
    assert (leg.malformed_frames, leg.unknown_frames, leg.duplicate_starts) == (2, 1, 1)


async def test_a_closed_socket_is_one_hang_up() -> None:
    socket = MemorySocket()
    socket.hang_up()
    assert await events_of(BrowserCallLeg(socket, "c")) == [CallerHungUp()]


async def test_a_silent_page_counts_as_hung_up_after_the_idle_timeout() -> None:
    leg = BrowserCallLeg(MemorySocket(), "c", idle_timeout_s=0.05)
    assert await events_of(leg) == [CallerHungUp()]
    assert leg.idle_timed_out


async def test_started_goes_before_any_audio_and_turns_end_after_their_audio() -> None:
    socket = MemorySocket()
    leg = BrowserCallLeg(socket, "c")
    leg.announce("0b7c9a1e-0000-4000-8000-000000000001")
    await leg.play(bytes(800))
    await leg.play(b"\x01" * 300)  # held: under 20 ms
    await leg.finish_turn(1)
    kinds = [f if isinstance(f, str) else len(f) for f in socket.sent]
    assert kinds == [
        '{"type":"started","call_id":"0b7c9a1e-0000-4000-8000-000000000001"}',
        800,
        640,  # the 300-byte tail, padded with silence to 20 ms
        '{"type":"turn_end","turn":1}',
    ]
    assert socket.sent[2] == b"\x01" * 300 + bytes(340)


async def test_interrupt_drops_the_held_tail_and_tells_the_page_to_flush() -> None:
    socket = MemorySocket()
    leg = BrowserCallLeg(socket, "c")
    leg.announce("id")
    await leg.play(bytes(300))
    await leg.interrupt()
    await leg.finish_turn(1)
    assert socket.controls()[1:] == [{"type": "interrupt"}, {"type": "turn_end", "turn": 1}]
    assert not [f for f in socket.sent if isinstance(f, bytes)]


async def test_end_tells_the_page_what_follows_and_close_closes_once() -> None:
    socket = MemorySocket()
    leg = BrowserCallLeg(socket, "c")
    leg.announce("id")
    outcome = CallOutcome(step=NextStep.TRANSFER, say="Connecting.", transfer_to="+14155550100")
    await leg.end(outcome)
    await leg.end(outcome)
    await leg.play(bytes(640))
    end = socket.controls()[-1]
    assert (end["type"], end["outcome"], end["transfer_to"]) == ("end", "transfer", "+14155550100")
    assert len(socket.controls()) == 2
    assert socket.closed is None
    await leg.close()
    assert socket.closed == (1000, "")


async def test_a_stream_that_never_started_is_closed_with_1008_and_sent_nothing() -> None:
    socket = MemorySocket()
    leg = BrowserCallLeg(socket, "c")
    await leg.end(CallOutcome(step=NextStep.HANG_UP))
    assert socket.sent == []
    assert socket.closed == (1008, "call refused")
