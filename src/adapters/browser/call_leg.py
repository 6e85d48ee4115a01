"""`BrowserCallLeg`: the caller's side of a call placed from the console's softphone page,
spoken to through a `FrameSocket` (JSON control frames, binary 16 kHz PCM frames)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Final

from adapters.browser.codec import (
    AUDIO_FORMAT,
    INTERRUPT,
    MIN_FRAME_BYTES,
    Audio,
    Dtmf,
    Hangup,
    Malformed,
    Played,
    Start,
    Unknown,
    decode,
    encode_end,
    encode_started,
    encode_turn_end,
    pieces,
)
from adapters.media_socket import FrameSocket, IdleWatch
from application.ports.voice import (
    AudioFormat,
    CallerAudio,
    CallerDtmf,
    CallerEvent,
    CallerHungUp,
    CallOutcome,
    TurnPlayed,
)

logger = logging.getLogger(__name__)

CARRIER: Final = "browser"
REFUSED: Final = 1008


class StreamNotStarted(Exception):
    """The page closed, timed out or sent something else before its `start` frame."""


async def read_start(socket: FrameSocket, *, timeout_s: float) -> Start:
    """The page's `start` frame, which must come first (within `timeout_s`).

    Anything else first — audio, another control frame, a malformed frame — is a page
    that does not speak the protocol: `StreamNotStarted`, the socket left open."""
    try:
        async with asyncio.timeout(timeout_s):
            frame = await socket.receive_frame()
    except TimeoutError:
        raise StreamNotStarted(f"no start frame within {timeout_s} s") from None
    if frame is None:
        raise StreamNotStarted("the page closed before its start frame")
    message = decode(frame)
    if not isinstance(message, Start):
        raise StreamNotStarted(f"the first frame was not start: {message!r}")
    return message


class BrowserCallLeg:
    """`CallLeg` over the softphone page's socket, past its `start` frame.

    Reading: `events()` (one consumer) yields caller audio, `CallerDtmf`, `TurnPlayed`
    (the page's `played`, sent once its playback buffer has passed the `turn_end`, or
    at once for a turn an `interrupt` flushed), and exactly one `CallerHungUp` on
    `hangup`, when the socket closes, or after `idle_timeout_s` without a frame.
    Malformed frames, unknown types and second `start`s are counted and skipped.

    Writing: one lock, so audio and `turn_end`s leave in the order asked; audio goes
    out in 20-40 ms frames (a tail under 20 ms waits for more, and is padded with
    silence at the turn's end). `interrupt` jumps the queue: a `play` still waiting
    for the lock is dropped. Nothing is sent before `announce`: a stream whose token
    is refused gets no frame, only a close (1008). `end` sends the outcome; the
    socket is closed by `close`, which the entrypoint calls once the call is recorded.
    """

    def __init__(
        self,
        socket: FrameSocket,
        carrier_call_id: str,
        *,
        idle_timeout_s: float | None = None,
    ) -> None:
        self._socket = socket
        self._lock = asyncio.Lock()
        self._generation = 0  # bumped by interrupt(): plays from an older one are dropped
        self._tail = b""
        self._announced: str | None = None
        self._pending_start: str | None = None
        self._announcing: asyncio.Task[None] | None = None
        self._ended = False
        self._closed = False
        self._hung_up = False
        self.carrier: str = CARRIER
        self.carrier_call_id: str = carrier_call_id
        self.audio_format: AudioFormat = AUDIO_FORMAT
        self.idle_timeout_s = idle_timeout_s
        self.idle_timed_out = False
        self.malformed_frames = 0
        self.unknown_frames = 0
        self.duplicate_starts = 0

    @property
    def announced(self) -> bool:
        """True once the page has been told its call started (its token was good)."""
        return self._announced is not None

    def announce(self, call_ref: str) -> None:
        """Tell the page its call has started, as `call_ref` (our call's id), before any
        other frame. Called from synchronous code (the gateway's `claimed`), so the
        frame is sent from a task; every later send waits for it under the lock."""
        if self._announced is not None:
            return
        self._announced = call_ref
        self._pending_start = encode_started(call_ref)
        self._announcing = asyncio.create_task(self._flush_start(), name="softphone-started")

    async def _flush_start(self) -> None:
        async with self._lock:
            await self._send_start()

    async def _send_start(self) -> None:
        """Under the lock: the `started` frame, if it has not gone yet."""
        start, self._pending_start = self._pending_start, None
        if start is not None and not self._closed:
            await self._send(start)

    async def events(self) -> AsyncIterator[CallerEvent]:
        """See the class docstring."""
        idle_s = self.idle_timeout_s
        watch = None if idle_s is None else IdleWatch(idle_s)
        receive = self._socket.receive_frame
        try:
            while not self._hung_up:
                try:
                    frame = await (receive() if watch is None else watch.wait(receive))
                except TimeoutError:
                    logger.warning("no frame from the softphone for %.0f s: hung up", idle_s)
                    self.idle_timed_out = True
                    frame = None
                except Exception as error:  # a broken socket is a hang-up, not a crash
                    logger.debug("softphone receive failed: %r", error)
                    frame = None
                if frame is None:
                    break
                message = decode(frame)
                if isinstance(message, Audio):
                    yield CallerAudio(message.payload)
                elif isinstance(message, Played):
                    yield TurnPlayed(message.turn)
                elif isinstance(message, Dtmf):
                    yield CallerDtmf(message.digit)
                elif isinstance(message, Hangup):
                    break
                elif isinstance(message, Malformed):
                    self.malformed_frames += 1
                    logger.debug("malformed softphone frame: %s", message.reason)
                elif isinstance(message, Unknown):
                    self.unknown_frames += 1
                else:  # a second start
                    self.duplicate_starts += 1
        finally:
            if watch is not None:
                watch.stop()
        if not self._hung_up:
            self._hung_up = True
            yield CallerHungUp()

    async def play(self, audio: bytes) -> None:
        """Queue raw `audio` (16 kHz PCM) after everything sent before it."""
        if self._ended or not audio:
            return
        generation = self._generation
        frames, self._tail = pieces(self._tail + audio)
        for frame in frames:
            async with self._lock:
                if self._ended or generation != self._generation:
                    return
                await self._send_start()
                await self._send_bytes(frame)

    async def finish_turn(self, turn: int) -> None:
        """Send what is held of the turn (padded with silence to 20 ms), then `turn_end`:
        the page answers `played` once its playback has passed it."""
        tail, self._tail = self._tail, b""
        async with self._lock:
            if self._ended:
                return
            await self._send_start()
            if len(tail) > 1:
                padded = tail[: len(tail) - len(tail) % 2]
                await self._send_bytes(padded + bytes(MIN_FRAME_BYTES - len(padded)))
            await self._send(encode_turn_end(turn))

    async def interrupt(self) -> None:
        """Barge-in: drop what is held here and tell the page to flush its buffer; it
        reports the turns it flushed as played."""
        self._generation += 1
        self._tail = b""
        async with self._lock:
            if not self._ended:
                await self._send_start()
                await self._send(INTERRUPT)

    async def end(self, outcome: CallOutcome) -> None:
        """Tell the page what follows (idempotent); no more audio is sent. A stream that
        never started (its token was refused) is closed at once with 1008 instead."""
        if self._ended:
            return
        self._ended = True
        async with self._lock:
            if self._announced is None:
                await self._close(REFUSED, "call refused")
                return
            await self._send_start()
            await self._send(encode_end(outcome))

    async def close(self) -> None:
        """Close the socket (idempotent), after any frame in flight."""
        self._ended = True
        async with self._lock:
            await self._close(1000, "")
        if self._announcing is not None:
            await self._announcing

    async def _close(self, code: int, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._socket.close(code, reason)
        except Exception as error:
            logger.debug("softphone close failed: %r", error)

    async def _send(self, data: str) -> None:
        if self._closed:
            return
        try:
            await self._socket.send_text(data)
        except Exception as error:  # the page left: report via events(), not here
            logger.debug("softphone send failed, leg closed: %r", error)
            self._closed = True

    async def _send_bytes(self, data: bytes) -> None:
        if self._closed:
            return
        try:
            await self._socket.send_bytes(data)
        except Exception as error:
            logger.debug("softphone send failed, leg closed: %r", error)
            self._closed = True
