"""`TelnyxCallLeg` against an in-memory socket: ordering, marks, interrupt, end."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from adapters.telnyx.call_leg import StreamNotStarted, TelnyxCallLeg
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

SID = "v3:9X2vxPDFY2RHSJ1EdMS0RHRksMTg7ldNxdjWbVr9zBjbGjGsSe-aiQ"
CONNECTED = '{"event":"connected","version":"1.0.0"}'


def start(encoding: str = "PCMU", sample_rate: int = 8000) -> str:
    return json.dumps(
        {
            "event": "start",
            "sequence_number": "1",
            "start": {
                "call_control_id": SID,
                "call_session_id": "ff55a038-6f5d-11ef-9692-02420aeffb1f",
                "from": "+13122010094",
                "to": "+13122123456",
                "media_format": {"encoding": encoding, "sample_rate": sample_rate, "channels": 1},
            },
            "stream_id": "32DE0DEA-53CB-4B21-89A4-9E1819C043BC",
        }
    )


def media(sequence: int, payload: bytes) -> str:
    return json.dumps(
        {
            "event": "media",
            "sequence_number": str(sequence),
            "media": {"track": "inbound", "payload": base64.b64encode(payload).decode()},
        }
    )


def mark(sequence: int, name: str) -> str:
    return json.dumps({"event": "mark", "sequence_number": str(sequence), "mark": {"name": name}})


class MemorySocket:
    """A `TextSocket` fake: inbound frames from a list; each send waits for `gate`."""

    def __init__(self, frames: list[str]) -> None:
        self.frames = [CONNECTED, start(), *frames]
        self.sent: list[dict[str, object]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.in_flight = asyncio.Event()
        self.closes = 0
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
        self.closes += 1

    def audio_sent(self) -> bytes:
        return b"".join(
            base64.b64decode(m["media"]["payload"])  # type: ignore[index]
            for m in self.sent
            if m["event"] == "media"
        )


async def _events(leg: TelnyxCallLeg) -> list[CallerEvent]:
    return [event async for event in leg.events()]


async def test_the_leg_names_the_call_the_webhook_admitted_and_the_streams_format() -> None:
    leg = await TelnyxCallLeg.open(MemorySocket([]), carrier_call_id=SID, start_timeout_s=1)
    assert (leg.carrier, leg.carrier_call_id, leg.call_control_id) == ("telnyx", SID, SID)
    assert (leg.audio_format.encoding, leg.audio_format.sample_rate_hz) == (
        AudioEncoding.PCMU,
        8000,
    )
    pcma = MemorySocket([])
    pcma.frames[1] = start("PCMA")
    assert (await TelnyxCallLeg.open(pcma)).audio_format.encoding is AudioEncoding.PCMA


@pytest.mark.parametrize(("encoding", "rate"), [("L16", 16000), ("OPUS", 16000), ("PCMU", 16000)])
async def test_audio_that_cannot_pass_through_unchanged_refuses_the_stream(
    encoding: str, rate: int
) -> None:
    socket = MemorySocket([])
    socket.frames[1] = start(encoding, rate)
    with pytest.raises(StreamNotStarted, match="PCMU or PCMA"):
        await TelnyxCallLeg.open(socket)


async def test_caller_audio_is_delivered_in_sequence_order() -> None:
    frames = [media(n, bytes([n])) for n in (3, 2, 5, 4, 6)]
    leg = await TelnyxCallLeg.open(MemorySocket(frames))
    events = await _events(leg)
    assert events == [CallerAudio(bytes([n])) for n in (2, 3, 4, 5, 6)] + [CallerHungUp()]
    assert (leg.late_frames, leg.missing_frames) == (0, 0)


async def test_a_frame_later_than_the_window_is_dropped_and_counted() -> None:
    late, *on_time = [media(n, bytes([n])) for n in range(2, 9)]
    leg = await TelnyxCallLeg.open(MemorySocket([*on_time, late]), reorder_frames=3)
    events = await _events(leg)
    assert events == [CallerAudio(bytes([n])) for n in range(3, 9)] + [CallerHungUp()]
    assert (leg.late_frames, leg.missing_frames) == (1, 1)


async def test_a_dtmf_digit_between_frames_does_not_hold_audio_back() -> None:
    dtmf = json.dumps({"event": "dtmf", "sequence_number": "3", "dtmf": {"digit": "7"}})
    leg = await TelnyxCallLeg.open(MemorySocket([media(2, b"a"), dtmf, media(4, b"b")]))
    assert await _events(leg) == [
        CallerAudio(b"a"),
        CallerDtmf("7"),
        CallerAudio(b"b"),
        CallerHungUp(),
    ]


async def test_our_turn_marks_come_back_as_turns_played_and_others_are_ignored() -> None:
    leg = await TelnyxCallLeg.open(MemorySocket([mark(2, "turn-4"), mark(3, "someone-else")]))
    assert await _events(leg) == [TurnPlayed(4), CallerHungUp()]


async def test_stop_ends_with_exactly_one_hang_up_after_held_audio() -> None:
    stop = '{"event":"stop","sequence_number":"9"}'
    leg = await TelnyxCallLeg.open(MemorySocket([media(3, b"b"), stop, media(10, b"x")]))
    assert await _events(leg) == [CallerAudio(b"b"), CallerHungUp()]
    assert [event async for event in leg.events()] == []


async def test_bad_frames_unknown_events_errors_and_second_starts_are_counted() -> None:
    frames = [
        "not json",
        '{"event":"media","sequence_number":"2","media":{"payload":"@@"}}',
        '{"event":"transcription"}',
        start(),
        '{"event":"error","payload":{"code":100003,"title":"malformed_frame"}}',
        media(2, b"a"),
    ]
    leg = await TelnyxCallLeg.open(MemorySocket(frames))
    assert await _events(leg) == [CallerAudio(b"a"), CallerHungUp()]
    counts = (leg.malformed_frames, leg.unknown_events, leg.duplicate_starts, leg.stream_errors)
    assert counts == (2, 1, 1, 1)


async def test_short_plays_are_held_until_20_ms_and_a_turn_tail_is_padded() -> None:
    socket = MemorySocket([])
    leg = await TelnyxCallLeg.open(socket)
    await leg.play(bytes(100))
    assert socket.sent == []
    await leg.play(bytes(100))
    await leg.play(bytes(50))
    await leg.finish_turn(1)
    assert [m["event"] for m in socket.sent] == ["media", "media", "mark"]
    sizes = [len(base64.b64decode(m["media"]["payload"])) for m in socket.sent[:2]]  # type: ignore[index]
    assert sizes == [200, 160]
    assert socket.sent[2] == {"event": "mark", "mark": {"name": "turn-1"}}
    assert socket.audio_sent()[250:] == b"\xff" * 110


async def test_long_plays_are_sent_in_messages_of_at_most_one_second() -> None:
    socket = MemorySocket([])
    leg = await TelnyxCallLeg.open(socket)
    await leg.play(bytes(8000 * 2 + 100))
    sizes = [len(base64.b64decode(m["media"]["payload"])) for m in socket.sent]  # type: ignore[index]
    assert sizes == [8000, 8100]


async def test_interrupt_drops_queued_audio_and_waits_only_for_the_frame_in_flight() -> None:
    socket = MemorySocket([])
    leg = await TelnyxCallLeg.open(socket)
    socket.gate.clear()
    playing = asyncio.create_task(leg.play(bytes(8000 * 5)))
    waiting = asyncio.create_task(leg.play(bytes(160)))
    await socket.in_flight.wait()
    interrupting = asyncio.create_task(leg.interrupt())
    await asyncio.sleep(0)
    socket.gate.set()
    await asyncio.gather(playing, waiting, interrupting)
    assert [m["event"] for m in socket.sent] == ["media", "clear"]
    assert socket.sent[1] == {"event": "clear"}


async def test_interrupt_drops_a_held_tail_but_the_turn_mark_still_goes() -> None:
    socket = MemorySocket([])
    leg = await TelnyxCallLeg.open(socket)
    await leg.play(bytes(100))
    await leg.interrupt()
    await leg.finish_turn(2)
    assert [m["event"] for m in socket.sent] == ["clear", "mark"]


async def test_end_closes_once_and_nothing_is_sent_after() -> None:
    socket = MemorySocket([])
    leg = await TelnyxCallLeg.open(socket)
    outcome = CallOutcome(step=NextStep.HANG_UP)
    await leg.end(outcome)
    await leg.end(outcome)
    await leg.play(bytes(400))
    await leg.finish_turn(1)
    assert (socket.closes, socket.sent, leg.closed) == (1, [], True)


async def test_a_failed_send_closes_the_leg_quietly() -> None:
    socket = MemorySocket([])
    leg = await TelnyxCallLeg.open(socket)
    socket.fail_sends = True
    await leg.play(bytes(160))
    assert leg.closed
    socket.fail_sends = False
    await leg.finish_turn(1)
    assert socket.sent == []


async def test_a_start_that_never_comes_times_out() -> None:
    class Silent(MemorySocket):
        async def receive_text(self) -> str | None:
            await asyncio.Event().wait()
            return None

    with pytest.raises(StreamNotStarted, match="no start"):
        await TelnyxCallLeg.open(Silent([]), start_timeout_s=0.05)


async def test_a_stream_that_goes_silent_counts_as_a_hang_up() -> None:
    class GoesSilent(MemorySocket):
        async def receive_text(self) -> str | None:
            if self.frames:
                return self.frames.pop(0)
            await asyncio.Event().wait()
            return None

    leg = await TelnyxCallLeg.open(GoesSilent([]), idle_timeout_s=0.05)
    assert await _events(leg) == [CallerHungUp()]
    assert leg.idle_timed_out
