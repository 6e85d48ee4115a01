"""Telnyx's side of one bidirectional media stream (`<Connect><Stream
bidirectionalMode="rtp">`), for tests; see `telnyx_simulator` for the HTTP side.

It plays our audio out in (simulated) real time, echoes each mark once the audio
queued before it would have played (at once on `clear`, which empties the queue), and
records every message we send that Telnyx would reject — `assert_no_violations()`
fails the test. Caller audio can be sent out of order (`send_audio(order=...)`), as
Telnyx does not promise order. Tests await conditions rather than sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support.observed_stream import MarkedStream

FRAME_BYTES: Final = 160  # 20 ms of 8 kHz G.711
FRAME_S: Final = 0.020
BYTES_PER_S: Final = 8000
MIN_MEDIA_BYTES: Final = BYTES_PER_S * 20 // 1000
MAX_MEDIA_BYTES: Final = BYTES_PER_S * 30


@dataclass(frozen=True, slots=True)
class CallIdentity:
    call_sid: str
    """TeXML's CallSid; Telnyx's examples show it equal to the call control id."""
    account_sid: str
    from_number: str
    to_number: str
    call_session_id: str

    @property
    def call_control_id(self) -> str:
        return self.call_sid


def new_call(
    from_number: str = "+15005550006",
    to_number: str = "+15551230000",
    *,
    account_sid: str | None = None,
) -> CallIdentity:
    sid = "v3:" + secrets.token_urlsafe(39)[:52]
    return CallIdentity(
        sid, account_sid or str(uuid.uuid4()), from_number, to_number, str(uuid.uuid4())
    )


# --- what our server may send on the stream -------------------------------------------


class _Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class _MediaBody(_Strict, frozen=True):
    payload: bytes  # msgspec decodes base64 strictly: bad padding or alphabet fails


class _MarkBody(_Strict, frozen=True):
    name: str


class _Out(_Strict, frozen=True, tag_field="event"):
    pass


class _OutMedia(_Out, frozen=True, tag="media"):
    media: _MediaBody


class _OutMark(_Out, frozen=True, tag="mark"):
    mark: _MarkBody


class _OutClear(_Out, frozen=True, tag="clear"):
    pass


_OUT_DECODER: Final[msgspec.json.Decoder[_OutMedia | _OutMark | _OutClear]] = msgspec.json.Decoder(
    _OutMedia | _OutMark | _OutClear
)


@dataclass(frozen=True, slots=True)
class Received:
    """One message from our server: `at` is seconds since the stream connected."""

    at: float
    event: str
    size: int = 0
    name: str = ""


class SimulatedCall(MarkedStream):
    """Telnyx's side of one stream. `stream_url` is the `<Stream url>` from the TeXML
    (its query is what our server reads); `connect_url`, if given, is where the test
    server really listens (the stream URL's query is added to it)."""

    def __init__(
        self,
        stream_url: str,
        *,
        call: CallIdentity | None = None,
        connect_url: str | None = None,
        realtime: bool = False,
        custom_parameters: Mapping[str, str] | None = None,
    ) -> None:
        self.stream_url = stream_url
        self.connect_url = _with_query(connect_url or stream_url, urlsplit(stream_url).query)
        self.call = call or new_call()
        self.stream_id = str(uuid.uuid4())
        self.custom_parameters = dict(custom_parameters or {})
        self.realtime = realtime
        self._ws: ClientConnection | None = None
        self._loop = asyncio.get_running_loop()
        self._t0 = self._loop.time()
        self._tasks: list[asyncio.Task[None]] = []
        self._echoes: asyncio.Queue[str | None] = asyncio.Queue()
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._sequence = 0
        self._chunk = 0
        self._next_frame_at = 0.0
        self._started = False
        self._stopped = False
        self._playout_end = 0.0
        self._segments: deque[tuple[float, int]] = deque()
        self._pending_marks: deque[tuple[float, str]] = deque()
        self._mark_timer: asyncio.TimerHandle | None = None
        self.received: list[Received] = []
        self.audio = bytearray()
        """All audio our server sent, in order (including audio later cleared)."""
        self.marks_received: list[str] = []
        self.marks_echoed: list[tuple[str, float]] = []
        self.clears: list[float] = []
        self.cleared_audio_bytes = 0
        self.violations: list[str] = []
        self.closed = asyncio.Event()
        self.close_code: int | None = None

    # lifecycle

    async def connect(self, *, send_start: bool = True) -> None:
        """Open the socket; send `connected` and `start`."""
        self._ws = await connect(self.connect_url, compression=None, max_size=2**20)
        self._t0 = self._loop.time()
        self._tasks = [
            asyncio.create_task(self._receive(), name=f"sim-receive-{self.stream_id}"),
            asyncio.create_task(self._echo_marks(), name=f"sim-echo-{self.stream_id}"),
        ]
        await self.send_json({"event": "connected", "version": "1.0.0"})
        if send_start:
            await self.send_start()

    async def close(self) -> None:
        """Tear down (idempotent): cancel the tasks and close the socket if still open."""
        if self._mark_timer is not None:
            self._mark_timer.cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._ws is not None:
            await self._ws.close()

    async def __aenter__(self) -> SimulatedCall:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # what Telnyx sends

    async def send_start(
        self, *, encoding: str = "PCMU", sample_rate: int = 8000, channels: int = 1
    ) -> None:
        self._started = True
        start = {
            "user_id": str(uuid.uuid4()),
            "call_control_id": self.call.call_control_id,
            "call_session_id": self.call.call_session_id,
            "from": self.call.from_number,
            "to": self.call.to_number,
            "custom_parameters": self.custom_parameters,
            "media_format": {
                "encoding": encoding,
                "sample_rate": sample_rate,
                "channels": channels,
            },
        }
        await self.send_json(
            {
                "event": "start",
                "sequence_number": self._next_sequence(),
                "start": start,
                "stream_id": self.stream_id,
            }
        )

    async def send_audio(
        self, audio: bytes, *, realtime: bool | None = None, order: Sequence[int] | None = None
    ) -> None:
        """The caller speaks: `audio` as 160-byte frames, numbered in order. `order`
        lists frame indices in the order to send them (Telnyx does not promise order);
        an index left out is a frame lost on the way."""
        frames = []
        for start in range(0, len(audio), FRAME_BYTES):
            self._chunk += 1
            frames.append(
                {
                    "event": "media",
                    "sequence_number": self._next_sequence(),
                    "media": {
                        "track": "inbound",
                        "chunk": str(self._chunk),
                        "timestamp": str((self._chunk - 1) * 20),
                        "payload": base64.b64encode(audio[start : start + FRAME_BYTES]).decode(),
                    },
                    "stream_id": self.stream_id,
                }
            )
        paced = self.realtime if realtime is None else realtime
        for index in range(len(frames)) if order is None else order:
            if paced:
                await self._pace()
            await self.send_json(frames[index])

    async def send_dtmf(self, digit: str) -> None:
        await self.send_json(
            {
                "event": "dtmf",
                "stream_id": self.stream_id,
                "occurred_at": datetime.now(UTC).isoformat(),
                "sequence_number": self._next_sequence(),
                "dtmf": {"digit": digit},
            }
        )

    async def send_error(self, code: int = 100003, title: str = "malformed_frame") -> None:
        await self.send_json(
            {
                "event": "error",
                "payload": {
                    "code": code,
                    "title": title,
                    "detail": "frame was not formed correctly",
                },
                "stream_id": self.stream_id,
            }
        )

    async def send_stop(self, *, then_close: bool = True) -> None:
        """The call ended: `stop`, then close the socket."""
        self._stopped = True
        await self.send_json(
            {
                "event": "stop",
                "sequence_number": self._next_sequence(),
                "stop": {"call_control_id": self.call.call_control_id},
                "stream_id": self.stream_id,
            }
        )
        if then_close:
            await self.hang_up()

    async def hang_up(self) -> None:
        """Close the socket abruptly, with no `stop`."""
        assert self._ws is not None
        await self._ws.close()

    async def send_json(self, message: Mapping[str, Any]) -> None:
        await self.send_raw(msgspec.json.encode(message).decode())

    async def send_raw(self, text: str) -> None:
        """Send any text frame (to test how malformed input is handled)."""
        assert self._ws is not None, "connect() first"
        await self._ws.send(text)

    # internals (waiting and reading: `ObservedStream`)

    def _next_sequence(self) -> str:
        self._sequence += 1
        return str(self._sequence)

    async def _pace(self) -> None:
        now = self._loop.time()
        self._next_frame_at = max(self._next_frame_at, now)
        if self._next_frame_at > now:
            await asyncio.sleep(self._next_frame_at - now)
        self._next_frame_at += FRAME_S

    async def _receive(self) -> None:
        assert self._ws is not None
        try:
            async for message in self._ws:
                if isinstance(message, bytes):
                    self._violation(f"binary frame of {len(message)} bytes")
                else:
                    self._on_message(message)
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self._ws.close_code
            if self._mark_timer is not None:
                self._mark_timer.cancel()
            self._echoes.put_nowait(None)
            self.closed.set()
            self._changed()

    def _on_message(self, text: str) -> None:
        try:
            message = _OUT_DECODER.decode(text)
        except msgspec.DecodeError as error:
            self._violation(f"{error}: {text[:200]}")
            return
        if not self._started:
            self._violation(f"{message.__class__.__name__} before start")
        now = self._loop.time()
        at = now - self._t0
        if isinstance(message, _OutMedia):
            payload = message.media.payload
            if not MIN_MEDIA_BYTES <= len(payload) <= MAX_MEDIA_BYTES:
                self._violation(f"media of {len(payload)} bytes: Telnyx takes 20 ms to 30 s")
            self.audio += payload
            self.received.append(Received(at, "media", size=len(payload)))
            self._queue_playout(now, len(payload))
        elif isinstance(message, _OutMark):
            name = message.mark.name
            self.marks_received.append(name)
            self.received.append(Received(at, "mark", name=name))
            self._queue_mark(now, name)
        else:
            self.received.append(Received(at, "clear"))
            self.clears.append(at)
            self._clear_playout(now)
        self._changed()

    def _echo(self, name: str) -> None:
        self.marks_echoed.append((name, self._loop.time() - self._t0))
        message = {
            "event": "mark",
            "stream_id": self.stream_id,
            "sequence_number": self._next_sequence(),
            "mark": {"name": name},
        }
        self._echoes.put_nowait(msgspec.json.encode(message).decode())

    async def _echo_marks(self) -> None:
        """The one writer of mark echoes, so they leave in the order they fell due."""
        while (text := await self._echoes.get()) is not None:
            if self._stopped:
                continue
            try:
                await self.send_raw(text)
            except ConnectionClosed:
                return


def _with_query(url: str, query: str) -> str:
    parts = urlsplit(url)
    if parts.query or not query:
        return url
    return urlunsplit(parts._replace(query=query))
