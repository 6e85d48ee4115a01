"""`TelnyxCallLeg` over a real WebSocket server, driven by the strict Telnyx simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from adapters.telnyx.call_leg import StreamNotStarted, TelnyxCallLeg
from adapters.telnyx.media_codec import turn_mark
from adapters.telnyx.stream_url import media_stream_url, stream_credentials
from adapters.telnyx.texml import connect_stream
from application.ports.voice import (
    CallerAudio,
    CallerDtmf,
    CallerEvent,
    CallerHungUp,
    CallOutcome,
    TurnPlayed,
)
from domain.calls import NextStep
from tests.support.telnyx_simulator import (
    BYTES_PER_S,
    SimulatedCall,
    new_call,
    parse_texml,
)

PUBLIC = "https://frontdesk.example.com"
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
    opened: asyncio.Queue[TelnyxCallLeg | StreamNotStarted] = field(default_factory=asyncio.Queue)

    async def next_leg(self) -> TelnyxCallLeg:
        async with asyncio.timeout(5):
            leg = await self.opened.get()
        assert isinstance(leg, TelnyxCallLeg), leg
        return leg

    def call(self) -> SimulatedCall:
        """A call answered with our TeXML: the simulator takes the stream URL from it."""
        identity = new_call()
        stream = media_stream_url(PUBLIC, identity.call_sid, "tok-1")
        reply = parse_texml(connect_stream(stream, f"{PUBLIC}/telnyx/after-stream"))
        assert reply.stream_url is not None
        return SimulatedCall(reply.stream_url, call=identity, connect_url=self.url)


@pytest.fixture
async def server() -> AsyncIterator[MediaServer]:
    holder: list[MediaServer] = []

    async def handler(connection: ServerConnection) -> None:
        assert connection.request is not None
        query = dict(parse_qsl(urlsplit(connection.request.path).query))
        credentials = stream_credentials(query)
        if credentials is None or credentials.token != "tok-1":
            await connection.close(1008, "bad credentials")
            return
        try:
            leg = await TelnyxCallLeg.open(
                WebsocketsTextSocket(connection),
                carrier_call_id=credentials.call_sid,
                start_timeout_s=START_TIMEOUT_S,
            )
        except StreamNotStarted as error:
            holder[0].opened.put_nowait(error)
            await connection.close(1008, "stream not started")
            return
        holder[0].opened.put_nowait(leg)
        await connection.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as ws_server:
        port = next(iter(ws_server.sockets)).getsockname()[1]
        holder.append(MediaServer(f"ws://127.0.0.1:{port}/telnyx/media"))
        yield holder[0]


class Events:
    """Consumes `leg.events()` in the background, as the session's caller pump would."""

    def __init__(self, leg: TelnyxCallLeg) -> None:
        self.queue: asyncio.Queue[CallerEvent] = asyncio.Queue()
        self.seen: list[CallerEvent] = []
        self.task = asyncio.create_task(self._pump(leg))

    async def _pump(self, leg: TelnyxCallLeg) -> None:
        async for event in leg.events():
            self.seen.append(event)
            self.queue.put_nowait(event)

    async def next(self) -> CallerEvent:
        async with asyncio.timeout(5):
            return await self.queue.get()

    async def finished(self) -> list[CallerEvent]:
        async with asyncio.timeout(5):
            await self.task
        return self.seen


def _speech(n_bytes: int) -> bytes:
    return bytes(i % 251 for i in range(n_bytes))


async def test_the_leg_opens_for_the_call_the_stream_url_names(server: MediaServer) -> None:
    async with server.call() as call:
        leg = await server.next_leg()
        assert leg.carrier_call_id == call.call.call_sid
        assert leg.call_control_id == call.call.call_control_id
        assert leg.stream_id == call.stream_id
        await leg.end(CallOutcome(step=NextStep.HANG_UP))


async def test_caller_audio_sent_out_of_order_arrives_in_order(server: MediaServer) -> None:
    async with server.call() as call:
        leg = await server.next_leg()
        events = Events(leg)
        speech = _speech(160 * 10)
        await call.send_audio(speech, order=[1, 0, 2, 4, 3, 5, 7, 6, 8, 9])
        received = [await events.next() for _ in range(10)]
        assert b"".join(e.payload for e in received if isinstance(e, CallerAudio)) == speech
        await call.send_dtmf("4")
        assert await events.next() == CallerDtmf("4")
        await call.send_stop()
        assert await events.finished() == [*received, CallerDtmf("4"), CallerHungUp()]
        assert leg.late_frames == 0
        call.assert_no_violations()


async def test_a_frame_far_behind_is_dropped_and_the_rest_keep_order(server: MediaServer) -> None:
    async with server.call() as call:
        leg = await server.next_leg()
        events = Events(leg)
        speech = _speech(160 * 8)
        await call.send_audio(speech, order=[1, 2, 3, 4, 5, 6, 7, 0])
        await call.send_stop()
        audio = b"".join(e.payload for e in await events.finished() if isinstance(e, CallerAudio))
        assert audio == speech[160:]
        assert leg.late_frames == 1


async def test_a_turn_is_played_only_after_its_audio_has_played(server: MediaServer) -> None:
    async with server.call() as call:
        leg = await server.next_leg()
        events = Events(leg)
        audio = _speech(BYTES_PER_S // 5)  # 200 ms
        await leg.play(audio)
        await leg.finish_turn(1)
        echoed_at = await call.wait_for_mark_echoed(turn_mark(1))
        assert await events.next() == TurnPlayed(1)
        media_at = next(r.at for r in call.received if r.event == "media")
        assert echoed_at - media_at >= 0.19
        assert bytes(call.audio) == audio
        call.assert_no_violations()
        await leg.end(CallOutcome(step=NextStep.HANG_UP))


async def test_interrupt_clears_queued_audio_and_pending_turns_come_back_at_once(
    server: MediaServer,
) -> None:
    async with server.call() as call:
        leg = await server.next_leg()
        events = Events(leg)
        await leg.play(_speech(BYTES_PER_S * 3))
        await leg.finish_turn(1)
        await call.wait_for_mark_received(turn_mark(1))
        await leg.interrupt()
        echoed_at = await call.wait_for_mark_echoed(turn_mark(1), timeout_s=1)
        assert await events.next() == TurnPlayed(1)
        assert echoed_at - call.clears[0] < 0.1
        assert call.cleared_audio_bytes > BYTES_PER_S * 2
        await leg.play(_speech(100))  # under 20 ms: held, then padded by finish_turn
        await leg.finish_turn(2)
        assert await events.next() == TurnPlayed(2)
        call.assert_no_violations()
        await leg.end(CallOutcome(step=NextStep.HANG_UP))


async def test_end_closes_the_stream_normally_and_only_once(server: MediaServer) -> None:
    async with server.call() as call:
        leg = await server.next_leg()
        events = Events(leg)
        outcome = CallOutcome(step=NextStep.TRANSFER, transfer_to="+15551230001")
        await asyncio.gather(leg.end(outcome), leg.end(outcome))
        await call.wait_closed()
        assert call.close_code == 1000
        assert await events.finished() == [CallerHungUp()]


async def test_a_stream_in_a_codec_we_cannot_pass_through_is_refused(server: MediaServer) -> None:
    call = server.call()
    await call.connect(send_start=False)
    try:
        await call.send_start(encoding="L16", sample_rate=16000)
        async with asyncio.timeout(5):
            refused = await server.opened.get()
        assert isinstance(refused, StreamNotStarted)
        await call.wait_closed()
        assert call.close_code == 1008
    finally:
        await call.close()


async def test_a_stream_with_a_wrong_token_is_closed_before_any_frame(server: MediaServer) -> None:
    query = urlsplit(media_stream_url(PUBLIC, new_call().call_sid, "stolen")).query
    async with connect(f"{server.url}?{query}") as ws:
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 1008
    assert server.opened.empty()
