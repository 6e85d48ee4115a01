"""`TwilioCallLeg`: the caller's side of a call over a Twilio bidirectional Media Stream.

The adapter speaks to the socket through `adapters.media_socket.TextSocket`, so it
imports no web framework.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Final

from adapters.media_socket import IdleWatch, TextSocket
from adapters.twilio.media_codec import (
    Connected,
    Malformed,
    MediaFormat,
    OutboundEncoder,
    Start,
    Stop,
    Unknown,
    decode,
    to_caller_event,
    turn_mark,
)
from application.ports.voice import (
    TELEPHONE_AUDIO,
    AudioFormat,
    CallerEvent,
    CallerHungUp,
    CallOutcome,
)

logger = logging.getLogger(__name__)

FRAME_BYTES: Final = 160
"""20 ms of 8 kHz mu-law."""

CARRIER: Final = "twilio"

MAX_PLAY_BYTES: Final = 50 * FRAME_BYTES
"""`play` sends audio as given, split into messages of at most 1 s (8000 bytes) so no
WebSocket frame grows large; Twilio accepts any payload size and queues it in order."""


class StreamNotStarted(Exception):
    """The stream closed, timed out or sent an unusable `start` before it began."""


class TwilioCallLeg:
    """`CallLeg` over one call's media stream, past `connected` and `start`. Build it
    with `open`. Audio is 8 kHz µ-law both ways (the only format Twilio streams).

    Reading: `events()` (one consumer) yields a `CallerAudio` per inbound media frame,
    `CallerDtmf`, `TurnPlayed` (the echo of the mark `finish_turn` sent), and exactly
    one `CallerHungUp` on `stop` or when the socket closes, then ends. Malformed frames
    are counted in `malformed_frames` and skipped; unknown events are counted in
    `unknown_events`; a second `start` is counted in `duplicate_starts`; all are
    otherwise ignored.

    Writing: every send goes through one lock, so media and marks leave in the order
    they were asked for. `interrupt` (Twilio's `clear`) jumps the queue: audio of a
    `play` still waiting for the lock (or the rest of a long `play` being split) is
    dropped, and it waits only for the single frame in flight. Once closed (by us, or
    because a send failed after the peer left) nothing more is sent and sends return
    quietly: the hang-up is reported through `events()`, not raised at the writer.
    """

    def __init__(self, socket: TextSocket, start: Start, *, ignored_frames: int = 0) -> None:
        info = start.start
        self._socket = socket
        self._encoder = OutboundEncoder(info.stream_sid)
        self._lock = asyncio.Lock()
        self._generation = 0  # bumped by interrupt(): plays from an older one are dropped
        self._closed = False
        self._hung_up = False
        self.call_sid: str = info.call_sid
        self.stream_sid: str = info.stream_sid
        self.carrier: str = CARRIER
        self.carrier_call_id: str = info.call_sid
        self.audio_format: AudioFormat = TELEPHONE_AUDIO
        self.account_sid: str = info.account_sid
        self.custom_parameters: Mapping[str, str] = dict(info.custom_parameters)
        self.media_format: MediaFormat = info.media_format
        self.malformed_frames = 0
        self.unknown_events = 0
        self.duplicate_starts = 0
        self.ignored_frames = ignored_frames
        """Frames before `start` other than `connected` (e.g. media), skipped."""
        self.idle_timeout_s: float | None = None
        self.idle_timed_out = False

    @classmethod
    async def open(
        cls,
        socket: TextSocket,
        *,
        start_timeout_s: float = 10,
        idle_timeout_s: float | None = None,
    ) -> TwilioCallLeg:
        """Read `connected` then `start`; raise `StreamNotStarted` if none arrives in time.

        Malformed frames, unknown events and anything before `start` are skipped. A
        media format other than mu-law 8 kHz mono is refused. On failure the socket is
        left open for the caller to close with the code it sees fit.
        """
        ignored = 0
        malformed = 0
        started: Start | None = None
        try:
            async with asyncio.timeout(start_timeout_s):
                while True:
                    frame = await socket.receive_text()
                    if frame is None:
                        raise StreamNotStarted("the stream closed before its start message")
                    event = decode(frame)
                    if isinstance(event, Start):
                        started = event
                        break
                    if isinstance(event, Malformed):
                        malformed += 1
                    elif not isinstance(event, Connected | Unknown):
                        ignored += 1
        except TimeoutError:
            raise StreamNotStarted(f"no start message within {start_timeout_s} s") from None
        assert started is not None
        fmt = started.start.media_format
        if (fmt.encoding, fmt.sample_rate, fmt.channels) != ("audio/x-mulaw", 8000, 1):
            raise StreamNotStarted(
                f"unsupported media format {fmt.encoding} {fmt.sample_rate} Hz "
                f"{fmt.channels} channel(s)"
            )
        leg = cls(socket, started, ignored_frames=ignored)
        leg.malformed_frames = malformed
        leg.idle_timeout_s = idle_timeout_s
        return leg

    @property
    def closed(self) -> bool:
        return self._closed

    async def events(self) -> AsyncIterator[CallerEvent]:
        """See the class docstring. With `idle_timeout_s` set, a stream that sends
        nothing for that long (Twilio sends media every 20 ms during a call) counts as a
        hang-up, and `idle_timed_out` says so."""
        socket, idle_s = self._socket, self.idle_timeout_s
        watch = None if idle_s is None else IdleWatch(idle_s)
        try:
            while not self._hung_up:
                try:
                    frame = await (
                        socket.receive_text() if watch is None else watch.receive(socket)
                    )
                except TimeoutError:
                    logger.warning("no media for %.0f s: treating the stream as gone", idle_s)
                    self.idle_timed_out = True
                    frame = None
                except Exception as error:  # a broken socket is a hang-up, not a crash
                    logger.debug("media stream receive failed: %r", error)
                    frame = None
                if frame is None:
                    break
                event = decode(frame)
                if isinstance(event, Malformed):
                    self.malformed_frames += 1
                    logger.debug("malformed media stream frame: %s", event.reason)
                    continue
                if isinstance(event, Unknown):
                    self.unknown_events += 1
                    continue
                if isinstance(event, Start):
                    self.duplicate_starts += 1
                    continue
                caller_event = to_caller_event(event)
                if caller_event is None:
                    continue
                if isinstance(event, Stop):
                    break
                yield caller_event
        finally:
            if watch is not None:
                watch.stop()
        if not self._hung_up:
            self._hung_up = True
            yield CallerHungUp()

    async def play(self, audio: bytes) -> None:
        """Queue raw mu-law `audio` for playback, after everything sent before it."""
        if self._closed or not audio:
            return
        generation = self._generation
        if len(audio) <= MAX_PLAY_BYTES:  # the usual case: one agent frame, one message
            async with self._lock:
                if not self._closed and generation == self._generation:
                    await self._send(self._encoder.media(audio))
            return
        for start in range(0, len(audio), MAX_PLAY_BYTES):
            async with self._lock:
                if self._closed or generation != self._generation:
                    return
                await self._send(self._encoder.media(audio[start : start + MAX_PLAY_BYTES]))

    async def finish_turn(self, turn: int) -> None:
        """Send the turn's mark: Twilio echoes it (`TurnPlayed`) once prior audio has played."""
        async with self._lock:
            if not self._closed:
                await self._send(self._encoder.mark(turn_mark(turn)))

    async def interrupt(self) -> None:
        """Barge-in: drop queued audio here and at Twilio (`clear`); pending marks come
        back at once, so their turns are reported played."""
        self._generation += 1
        async with self._lock:
            if not self._closed:
                await self._send(self._encoder.clear())

    async def end(self, outcome: CallOutcome) -> None:
        """Close the stream (idempotent): Twilio then requests the `<Connect action>`,
        which renders the outcome stored with the call (so `outcome` is not sent here).

        Waits for the frame in flight, so what was sent before is delivered first.
        """
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            try:
                await self._socket.close(1000, "")
            except Exception as error:
                logger.debug("media stream close failed: %r", error)

    async def _send(self, data: str) -> None:
        try:
            await self._socket.send_text(data)
        except Exception as error:  # the peer left: become closed, report via events()
            logger.debug("media stream send failed, leg closed: %r", error)
            self._closed = True
