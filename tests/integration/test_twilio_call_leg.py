"""`TwilioCallLeg` over a real WebSocket server, driven by the strict Twilio simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from http import HTTPStatus

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.http11 import Request, Response

from adapters.twilio.call_leg import StreamNotStarted, TwilioCallLeg
from adapters.twilio.signature import SIGNATURE_HEADER, TwilioSignatureVerifier
from application.ports import CallOutcome
from application.ports.voice import (
    CallerAudio,
    CallerDtmf,
    CallerEvent,
    CallerHungUp,
    TurnPlayed,
)
from domain.calls import NextStep
from tests.support.twilio_simulator import BYTES_PER_S, SimulatedCall

TOKEN = "integration-token-0123456789abcd"
PUBLIC_MEDIA_URL = "wss://frontdesk.example.com/twilio/media"
START_TIMEOUT_S = 0.5


class WebsocketsTextSocket:
    """What the entrypoint does for its framework's socket: adapt it to `TextSocket`."""

    def __init__(self, connection: ServerConnection) -> None:
        self._connection = connection

    async def receive_text(self) -> str | None:
        try:
            message = await self._connection.recv()
        except ConnectionClosed:
            return None
        return message if isinstance(message, str) else message.decode("utf-8", "replace")

    async def send_text(self, data: str) -> None:
        await self._connection.send(data)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._connection.close(code, reason)


@dataclass
class MediaServer:
    url: str
    opened: asyncio.Queue[TwilioCallLeg | StreamNotStarted] = field(default_factory=asyncio.Queue)

    async def next_leg(self) -> TwilioCallLeg:
        async with asyncio.timeout(5):
            leg = await self.opened.get()
        assert isinstance(leg, TwilioCallLeg), leg
        return leg

    def call(
        self, *, auth_token: str | None = TOKEN, signature: str | None = None
    ) -> SimulatedCall:
        return SimulatedCall(
            PUBLIC_MEDIA_URL,
            auth_token=auth_token,
            signature=signature,
            connect_url=self.url,
            custom_parameters={"call_token": "tok-1"},
        )


@pytest.fixture
async def server() -> AsyncIterator[MediaServer]:
    verifier = TwilioSignatureVerifier([TOKEN])
    holder: list[MediaServer] = []

    def check_signature(connection: ServerConnection, request: Request) -> Response | None:
        if verifier.verify(PUBLIC_MEDIA_URL, {}, request.headers.get(SIGNATURE_HEADER)):
            return None
        return connection.respond(HTTPStatus.FORBIDDEN, "bad signature\n")

    async def handler(connection: ServerConnection) -> None:
        socket = WebsocketsTextSocket(connection)
        try:
            leg = await TwilioCallLeg.open(socket, start_timeout_s=START_TIMEOUT_S)
        except StreamNotStarted as error:
            holder[0].opened.put_nowait(error)
            await connection.close(1008, "stream not started")
            return
        holder[0].opened.put_nowait(leg)
        await connection.wait_closed()

    async with serve(handler, "127.0.0.1", 0, process_request=check_signature) as ws_server:
        port = next(iter(ws_server.sockets)).getsockname()[1]
        holder.append(MediaServer(f"ws://127.0.0.1:{port}/twilio/media"))
        yield holder[0]


class Events:
    """Consumes `leg.events()` in the background, as the session's caller pump would."""

    def __init__(self, leg: TwilioCallLeg) -> None:
        self.queue: asyncio.Queue[CallerEvent] = asyncio.Queue()
        self.seen: list[CallerEvent] = []
        self.task = asyncio.create_task(self._pump(leg))

    async def _pump(self, leg: TwilioCallLeg) -> None:
        async for event in leg.events():
            self.seen.append(event)
            self.queue.put_nowait(event)

    async def next(self) -> CallerEvent:
        async with asyncio.timeout(5):
            return await self.queue.get()

    async def until(self, wanted: type[CallerEvent] | CallerEvent) -> list[CallerEvent]:
        """Events up to and including the first one equal to (or of type) `wanted`."""
        got: list[CallerEvent] = []
        while True:
            event = await self.next()
            got.append(event)
            if event == wanted or (isinstance(wanted, type) and isinstance(event, wanted)):
                return got

    async def finished(self) -> list[CallerEvent]:
        async with asyncio.timeout(5):
            await self.task
        return self.seen


HANG_UP = CallOutcome(step=NextStep.HANG_UP)


def _speech(n_bytes: int) -> bytes:
    return bytes(i % 251 for i in range(n_bytes))


async def test_the_leg_opens_with_the_call_stream_and_parameters_of_start(
    server: MediaServer,
) -> None:
    async with server.call() as call:
        leg = await server.next_leg()
        assert leg.call_sid == call.call.call_sid
        assert leg.stream_sid == call.stream_sid
        assert leg.account_sid == call.call.account_sid
        assert leg.custom_parameters == {"call_token": "tok-1"}
        assert (leg.media_format.encoding, leg.media_format.sample_rate) == ("audio/x-mulaw", 8000)
        await leg.end(HANG_UP)


async def test_caller_audio_arrives_in_order_one_event_per_frame(server: MediaServer) -> None:
    async with server.call() as call:
        leg = await server.next_leg()
        events = Events(leg)
        speech = _speech(160 * 25)
        await call.send_audio(speech)
        received = [await events.next() for _ in range(25)]
        assert all(isinstance(event, CallerAudio) for event in received)
        assert b"".join(e.payload for e in received if isinstance(e, CallerAudio)) == speech
        await call.send_dtmf("4")
        assert await events.next() == CallerDtmf("4")
        await call.send_stop()
        assert await events.next() == CallerHungUp()
        call.assert_no_violations()


async def test_a_turn_is_reported_played_only_after_its_audio_has_played(
    server: MediaServer,
) -> None:
    async with server.call() as call:
        leg = await server.next_leg()
        events = Events(leg)
        audio = _speech(BYTES_PER_S // 5)  # 200 ms
        await leg.play(audio)
        await leg.finish_turn(1)
        echoed_at = await call.wait_for_mark_echoed("turn-1")
        assert await events.next() == TurnPlayed(1)
        media_at = next(r.at for r in call.received if r.event == "media")
        assert echoed_at - media_at >= 0.19
        assert bytes(call.audio) == audio
        assert [r.event for r in call.received] == ["media", "mark"]
        call.assert_no_violations()
        await leg.end(HANG_UP)


async def test_writes_keep_their_order_across_plays_and_turn_ends(server: MediaServer) -> None:
    async with server.call() as call:
        leg = await server.next_leg()
        chunks = [_speech(320)[i:] + bytes([i]) for i in range(1, 6)]
        for i, chunk in enumerate(chunks):
            await leg.play(chunk)
            await leg.finish_turn(i)
        await call.wait_for_mark_received("turn-4")
        assert bytes(call.audio) == b"".join(chunks)
        assert call.marks_received == [f"turn-{i}" for i in range(5)]
        assert [r.event for r in call.received] == ["media", "mark"] * 5
        call.assert_no_violations()
        await leg.end(HANG_UP)


async def test_a_long_play_is_split_into_frames_of_at_most_one_second(
    server: MediaServer,
) -> None:
    async with server.call() as call:
        leg = await server.next_leg()
        audio = _speech(BYTES_PER_S * 2 + 800)
        await leg.play(audio)
        await call.wait_for_audio(len(audio))
        assert [r.size for r in call.received] == [BYTES_PER_S, BYTES_PER_S, 800]
        assert bytes(call.audio) == audio
        await leg.end(HANG_UP)


async def test_interrupt_drops_queued_audio_and_reports_pending_turns_played_at_once(
    server: MediaServer,
) -> None:
    async with server.call() as call:
        leg = await server.next_leg()
        events = Events(leg)
        await leg.play(_speech(BYTES_PER_S * 3))
        await leg.finish_turn(1)
        await call.wait_for_mark_received("turn-1")
        await leg.interrupt()
        echoed_at = await call.wait_for_mark_echoed("turn-1", timeout_s=1)
        assert await events.next() == TurnPlayed(1)
        assert echoed_at - call.clears[0] < 0.1
        assert call.cleared_audio_bytes > BYTES_PER_S * 2
        await leg.play(_speech(160))
        await leg.finish_turn(2)
        await call.wait_for_mark_echoed("turn-2", timeout_s=1)
        call.assert_no_violations()
        await leg.end(HANG_UP)


async def test_stop_ends_the_events_with_exactly_one_hang_up(server: MediaServer) -> None:
    async with server.call() as call:
        leg = await server.next_leg()
        events = Events(leg)
        await call.send_audio(_speech(320))
        await call.send_stop()
        seen = await events.finished()
        assert [type(e) for e in seen] == [CallerAudio, CallerAudio, CallerHungUp]


async def test_the_socket_closing_without_stop_is_a_hang_up(server: MediaServer) -> None:
    async with server.call() as call:
        leg = await server.next_leg()
        events = Events(leg)
        await call.send_dtmf("9")
        await call.hang_up()
        assert await events.finished() == [CallerDtmf("9"), CallerHungUp()]


async def test_malformed_frames_are_counted_and_skipped(server: MediaServer) -> None:
    async with server.call() as call:
        leg = await server.next_leg()
        events = Events(leg)
        await call.send_raw("not json")
        await call.send_raw(
            f'{{"event":"media","streamSid":"{call.stream_sid}","media":{{"payload":"@@"}}}}'
        )
        await call.send_raw('{"event":"transcription","streamSid":"x"}')
        await call.send_start()
        await call.send_dtmf("1")
        await call.send_stop()
        assert await events.finished() == [CallerDtmf("1"), CallerHungUp()]
        assert leg.malformed_frames == 2
        assert leg.unknown_events == 1
        assert leg.duplicate_starts == 1


async def test_frames_before_start_are_skipped_and_a_late_start_still_opens(
    server: MediaServer,
) -> None:
    call = server.call()
    await call.connect(send_start=False)
    try:
        await call.send_raw("{oops")
        await call.send_audio(_speech(160))
        await call.send_start()
        leg = await server.next_leg()
        assert leg.ignored_frames == 1
        assert leg.malformed_frames == 1
        await leg.end(HANG_UP)
    finally:
        await call.close()


async def test_a_stream_that_never_starts_is_refused(server: MediaServer) -> None:
    call = server.call()
    await call.connect(send_start=False)
    try:
        async with asyncio.timeout(5):
            outcome = await server.opened.get()
        assert isinstance(outcome, StreamNotStarted)
        await call.wait_closed()
    finally:
        await call.close()
    # a stream that closes before start is refused the same way
    call = server.call()
    await call.connect(send_start=False)
    await call.hang_up()
    async with asyncio.timeout(5):
        assert isinstance(await server.opened.get(), StreamNotStarted)
    await call.close()


async def test_an_unsupported_media_format_is_refused(server: MediaServer) -> None:
    call = server.call()
    await call.connect(send_start=False)
    try:
        await call.send_start(encoding="audio/l16", sample_rate=16000)
        async with asyncio.timeout(5):
            outcome = await server.opened.get()
        assert isinstance(outcome, StreamNotStarted)
        assert "audio/l16" in str(outcome)
    finally:
        await call.close()


async def test_a_handshake_with_a_forged_signature_is_refused(server: MediaServer) -> None:
    for call in (server.call(signature="forged"), server.call(auth_token=None)):
        with pytest.raises(InvalidStatus) as refused:
            await call.connect()
        assert refused.value.response.status_code == HTTPStatus.FORBIDDEN


async def test_closing_the_leg_closes_the_stream_and_nothing_is_sent_after(
    server: MediaServer,
) -> None:
    async with server.call() as call:
        leg = await server.next_leg()
        await leg.play(_speech(160))
        await leg.end(HANG_UP)
        await leg.end(HANG_UP)
        await call.wait_closed()
        assert call.close_code == 1000
        await leg.play(_speech(160))
        await leg.finish_turn(7)
        await leg.interrupt()
        assert len(call.audio) == 160
        assert call.marks_received == []
        call.assert_no_violations()


async def test_writes_after_the_caller_left_are_swallowed(server: MediaServer) -> None:
    async with server.call() as call:
        leg = await server.next_leg()
        events = Events(leg)
        await call.hang_up()
        assert await events.finished() == [CallerHungUp()]
        for _ in range(3):
            await leg.play(_speech(160))
            await leg.finish_turn(8)
            await leg.interrupt()
        assert leg.closed
        await leg.end(HANG_UP)
