"""`TelnyxCallLeg`: the caller's side of a call over a Telnyx bidirectional media stream
(`<Connect><Stream bidirectionalMode="rtp">`), spoken to through `TextSocket`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Final

from adapters.media_socket import IdleWatch, TextSocket
from adapters.telnyx.media_codec import (
    CLEAR,
    Connected,
    Dtmf,
    Error,
    Malformed,
    Mark,
    Media,
    Start,
    Stop,
    Unknown,
    UnsupportedFormat,
    audio_format_of,
    decode,
    encode_mark,
    encode_media,
    sequence_of,
    turn_mark,
    turn_of_mark,
)
from adapters.telnyx.reorder import ReorderWindow
from application.ports.voice import (
    AudioEncoding,
    AudioFormat,
    CallerAudio,
    CallerDtmf,
    CallerEvent,
    CallerHungUp,
    CallOutcome,
    TurnPlayed,
)

logger = logging.getLogger(__name__)

CARRIER: Final = "telnyx"
REORDER_FRAMES: Final = 3
"""Caller frames held behind a missing one before it is given up (60 ms of audio)."""
MIN_MESSAGE_MS: Final = 20
MAX_MESSAGE_MS: Final = 1000
"""Telnyx takes 20 ms to 30 s of audio per message; `play` sends at most 1 s at a time
so an `interrupt` can cut in, and holds back a tail under 20 ms until more comes."""
_SILENCE: Final = {AudioEncoding.PCMU: b"\xff", AudioEncoding.PCMA: b"\xd5"}


class StreamNotStarted(Exception):
    """The stream closed, timed out or sent an unusable `start` before it began."""


class TelnyxCallLeg:
    """`CallLeg` over one call's media stream, past `connected` and `start`. Build it
    with `open`.

    Reading: `events()` (one consumer) yields caller audio in `sequence_number` order
    (see `ReorderWindow`: frames arriving after later ones were delivered are dropped
    and counted in `late_frames`), `CallerDtmf`, `TurnPlayed` (Telnyx's echo of the
    mark `finish_turn` sent), and exactly one `CallerHungUp` on `stop` or when the
    socket closes, then ends. Malformed frames, unknown events, second `start`s and
    Telnyx `error` frames are counted and otherwise ignored.

    Writing: every send goes through one lock, so audio and marks leave in the order
    asked. `interrupt` (Telnyx's `clear`) jumps the queue: audio of a `play` still
    waiting for the lock is dropped, and it waits only for the frame in flight. Once
    closed (by us, or because a send failed after the peer left) sends return
    quietly: the hang-up is reported through `events()`, not raised at the writer.
    """

    def __init__(
        self,
        socket: TextSocket,
        start: Start,
        audio_format: AudioFormat,
        *,
        carrier_call_id: str | None = None,
        reorder_frames: int = REORDER_FRAMES,
    ) -> None:
        info = start.start
        self._socket = socket
        self._lock = asyncio.Lock()
        self._generation = 0  # bumped by interrupt(): plays from an older one are dropped
        self._closed = False
        self._hung_up = False
        self._tail = b""  # under MIN_MESSAGE_MS of audio, waiting for more
        self._min_bytes = audio_format.frame_bytes(MIN_MESSAGE_MS)
        self._max_bytes = audio_format.frame_bytes(MAX_MESSAGE_MS)
        first = sequence_of(start)
        self._window: ReorderWindow[bytes] = ReorderWindow(
            reorder_frames, None if first is None else first + 1
        )
        self.carrier: str = CARRIER
        self.carrier_call_id: str = carrier_call_id or info.call_control_id
        """The TeXML CallSid the webhook named (from the stream's URL); without one,
        the stream's `call_control_id` (Telnyx's examples show the two equal)."""
        self.audio_format: AudioFormat = audio_format
        self.call_control_id: str = info.call_control_id
        self.call_session_id: str = info.call_session_id
        self.stream_id: str = start.stream_id
        self.custom_parameters: Mapping[str, str] = info.parameters()
        self.malformed_frames = 0
        self.unknown_events = 0
        self.duplicate_starts = 0
        self.stream_errors = 0
        self.ignored_frames = 0
        """Frames before `start` other than `connected`, and frames of other tracks."""
        self.idle_timeout_s: float | None = None
        self.idle_timed_out = False

    @classmethod
    async def open(
        cls,
        socket: TextSocket,
        *,
        carrier_call_id: str | None = None,
        start_timeout_s: float = 10,
        idle_timeout_s: float | None = None,
        reorder_frames: int = REORDER_FRAMES,
    ) -> TelnyxCallLeg:
        """Read `connected` then `start`; raise `StreamNotStarted` if none arrives in
        time or its audio cannot be passed through unchanged (only G.711 at 8 kHz).

        `carrier_call_id` is the CallSid the stream's URL named (`stream_credentials`).
        On failure the socket is left open for the caller to close as it sees fit.
        """
        ignored = malformed = 0
        try:
            async with asyncio.timeout(start_timeout_s):
                while True:
                    frame = await socket.receive_text()
                    if frame is None:
                        raise StreamNotStarted("the stream closed before its start message")
                    event = decode(frame)
                    if isinstance(event, Start):
                        break
                    if isinstance(event, Malformed):
                        malformed += 1
                    elif not isinstance(event, Connected | Unknown):
                        ignored += 1
        except TimeoutError:
            raise StreamNotStarted(f"no start message within {start_timeout_s} s") from None
        try:
            audio_format = audio_format_of(event.start.media_format)
        except UnsupportedFormat as error:
            raise StreamNotStarted(str(error)) from None
        leg = cls(
            socket,
            event,
            audio_format,
            carrier_call_id=carrier_call_id,
            reorder_frames=reorder_frames,
        )
        leg.malformed_frames, leg.ignored_frames = malformed, ignored
        leg.idle_timeout_s = idle_timeout_s
        return leg

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def late_frames(self) -> int:
        """Caller frames that came after later ones had been delivered: dropped."""
        return self._window.late_dropped + self._window.duplicates_dropped

    @property
    def missing_frames(self) -> int:
        """Sequence numbers given up on (never arrived within the reorder window)."""
        return self._window.gaps_skipped

    async def events(self) -> AsyncIterator[CallerEvent]:
        """See the class docstring. With `idle_timeout_s` set, a stream that sends
        nothing for that long counts as a hang-up, and `idle_timed_out` says so."""
        socket, idle_s, window = self._socket, self.idle_timeout_s, self._window
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
                if isinstance(event, Media):
                    if event.media.track != "inbound":
                        self.ignored_frames += 1
                        continue
                    for payload in window.push(_sequence(event), event.media.payload):
                        yield CallerAudio(payload)
                    continue
                if isinstance(event, Stop):
                    break
                if isinstance(event, Dtmf | Mark | Error):
                    number = sequence_of(event)
                    for payload in () if number is None else window.skip(number):
                        yield CallerAudio(payload)
                    caller_event = self._other(event)
                    if caller_event is not None:
                        yield caller_event
                elif isinstance(event, Malformed):
                    self.malformed_frames += 1
                    logger.debug("malformed media stream frame: %s", event.reason)
                elif isinstance(event, Unknown):
                    self.unknown_events += 1
                elif isinstance(event, Start):
                    self.duplicate_starts += 1
        finally:
            if watch is not None:
                watch.stop()
        for payload in window.flush():
            yield CallerAudio(payload)
        if not self._hung_up:
            self._hung_up = True
            yield CallerHungUp()

    def _other(self, event: Dtmf | Mark | Error) -> CallerEvent | None:
        if isinstance(event, Dtmf):
            return CallerDtmf(event.dtmf.digit)
        if isinstance(event, Mark):
            turn = turn_of_mark(event.mark.name)
            return None if turn is None else TurnPlayed(turn)
        self.stream_errors += 1
        logger.warning(
            "telnyx media stream error %s (%s): %s",
            event.payload.code,
            event.payload.title,
            event.payload.detail,
        )
        return None

    async def play(self, audio: bytes) -> None:
        """Queue raw `audio` (in `audio_format`) after everything sent before it."""
        if self._closed or not audio:
            return
        generation = self._generation
        data, self._tail = self._tail + audio, b""
        if len(data) < self._min_bytes:
            self._tail = data
            return
        for piece in _pieces(data, self._max_bytes, self._min_bytes):
            async with self._lock:
                if self._closed or generation != self._generation:
                    return
                await self._send(encode_media(piece))

    async def finish_turn(self, turn: int) -> None:
        """Send what is held of the turn (padded with silence to 20 ms), then its mark:
        Telnyx echoes the mark (`TurnPlayed`) once the audio before it has played."""
        tail, self._tail = self._tail, b""
        async with self._lock:
            if self._closed:
                return
            if tail:
                silence = _SILENCE[self.audio_format.encoding]
                await self._send(encode_media(tail + silence * (self._min_bytes - len(tail))))
            await self._send(encode_mark(turn_mark(turn)))

    async def interrupt(self) -> None:
        """Barge-in: drop queued audio here and at Telnyx (`clear`); pending marks come
        back at once, so their turns are reported played."""
        self._generation += 1
        self._tail = b""
        async with self._lock:
            if not self._closed:
                await self._send(CLEAR)

    async def end(self, outcome: CallOutcome) -> None:
        """Close the stream (idempotent). Telnyx then runs the `<Redirect>` after the
        `<Connect>` and asks the after-stream URL, which renders the outcome stored with
        the call (so `outcome` is not sent here). Waits for the frame in flight."""
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


def _sequence(event: Media) -> int:
    number = sequence_of(event)
    assert number is not None  # decode() refuses media without a count
    return number


def _pieces(data: bytes, max_bytes: int, min_bytes: int) -> list[bytes]:
    """`data` in messages of at most `max_bytes`; a short last piece joins the one before."""
    pieces = [data[i : i + max_bytes] for i in range(0, len(data), max_bytes)]
    if len(pieces) > 1 and len(pieces[-1]) < min_bytes:
        pieces[-2:] = [pieces[-2] + pieces[-1]]
    return pieces
