"""A strict stand-in for the console's "Try it" page: it speaks the softphone protocol
exactly as `softphone.js` and its worklets do, written from the protocol rather than
from `adapters.browser`, so the adapter is checked against the protocol.

- `SoftphoneUser`: a staff member's browser: signs in through the login form (CSRF and
  all), reads the page's CSRF token, and places calls with `place()` (the POST).
- `SimulatedSoftphone`: one call's WebSocket: cookie and `Origin` as a browser sends
  them, `start` first, audio (20 ms frames of 16 kHz PCM) only once `started`, a
  playback buffer played out in (simulated) real time that answers each `turn_end`
  with `played` once passed, and flushes on `interrupt` (answering pending turns at
  once). Every frame the page would not understand, or that breaks the protocol, is
  recorded as a violation; `assert_no_violations()` fails the test.

Tests await conditions rather than sleeping.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import httpx
import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support.observed_stream import ObservedStream

BYTES_PER_S: Final = 32000  # 16 kHz, 16-bit
FRAME_BYTES: Final = 640  # 20 ms, what the capture worklet posts
MIN_FRAME_BYTES: Final = 640
MAX_FRAME_BYTES: Final = 1280
HANGUP_GRACE_S: Final = 5.0
"""How long the page waits for the server's close after sending `hangup`."""
PLACE_PATH: Final = "/console/softphone/calls"


# --- the HTTP side: signing in and placing a call -----------------------------------


class SoftphoneUser:
    """One signed-in browser (its cookie jar) against `base_url`."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.cookies = httpx.Cookies()
        self.csrf_token: str | None = None

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, cookies=self.cookies, timeout=10)

    async def sign_in(self, email: str, password: str) -> None:
        async with self._client() as client:
            form = await client.get("/console/login")
            token = _csrf_field(form.text)
            signed = await client.post(
                "/console/login",
                data={"_csrf_token": token, "email": email, "password": password},
            )
            assert signed.status_code == 303, signed.text
            page = await client.get("/console/try")
            assert page.status_code == 200, page.text
            self.cookies = client.cookies
        found = re.search(r'data-csrf="([^"]+)"', page.text)
        assert found is not None, "the Try it page carries its CSRF token"
        self.csrf_token = found[1]

    async def place(self, *, csrf_token: str | None = None) -> httpx.Response:
        """The page's POST; `csrf_token` overrides the page's (a forgery)."""
        token = self.csrf_token if csrf_token is None else csrf_token
        async with self._client() as client:
            return await client.post(
                PLACE_PATH, headers={"x-csrftoken": token or "", "accept": "application/json"}
            )

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def media_url(self, media_path: str) -> str:
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}{media_path}"


def _csrf_field(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found is not None, "the login form carries a CSRF field"
    return found[1]


# --- what the server may send -----------------------------------------------------------


class _Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="type"):
    pass


class _Started(_Strict, frozen=True, tag="started"):
    call_id: str


class _TurnEnd(_Strict, frozen=True, tag="turn_end"):
    turn: int


class _Interrupt(_Strict, frozen=True, tag="interrupt"):
    pass


class End(_Strict, frozen=True, tag="end"):
    outcome: Literal["hang_up", "transfer"]
    say: str | None
    transfer_to: str | None
    message: str


_DECODER: Final[msgspec.json.Decoder[_Started | _TurnEnd | _Interrupt | End]] = (
    msgspec.json.Decoder(_Started | _TurnEnd | _Interrupt | End)
)


@dataclass(frozen=True, slots=True)
class Received:
    """One frame from our server: `at` is seconds since the socket opened; `event` is
    the control frame's type, or "media" for audio."""

    at: float
    event: str
    size: int = 0
    name: str = ""


# --- one call's socket -------------------------------------------------------------------


class SimulatedSoftphone(ObservedStream):
    """The page's side of one call. `user` None: a socket with no session cookie;
    `origin` overrides the page's own origin (a cross-site page)."""

    def __init__(
        self,
        media_url: str,
        *,
        user: SoftphoneUser | None,
        call: str,
        token: str,
        origin: str | None = None,
    ) -> None:
        self.media_url = media_url
        self.user = user
        self.call = call
        self.token = token
        self.origin = origin
        self._ws: ClientConnection | None = None
        self._loop = asyncio.get_running_loop()
        self._t0 = self._loop.time()
        self._tasks: list[asyncio.Task[None]] = []
        self._replies: asyncio.Queue[str | None] = asyncio.Queue()
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._playout_end = 0.0
        self._segments: deque[tuple[float, int]] = deque()
        self._pending_turns: deque[tuple[float, str]] = deque()
        self._turn_timer: asyncio.TimerHandle | None = None
        self._hung_up = False
        self.call_id: str | None = None
        self.end: End | None = None
        self.received: list[Received] = []
        self.audio = bytearray()
        """All audio our server sent, in order (including audio later flushed)."""
        self.marks_received: list[str] = []
        """Each `turn_end`'s turn, as text (the suite's name for a playback marker)."""
        self.marks_echoed: list[tuple[str, float]] = []
        """Each `played` the page sent: the turn, and when."""
        self.cleared_audio_bytes = 0
        self.violations: list[str] = []
        self.closed = asyncio.Event()
        self.close_code: int | None = None

    # lifecycle

    async def connect(self, *, send_start: bool = True) -> None:
        """Open the socket as the browser does (cookies, Origin); send `start`."""
        page_origin = self.user.base_url if self.user is not None else None
        headers = {"Origin": self.origin or page_origin or "http://elsewhere.example"}
        if self.user is not None:
            headers["Cookie"] = self.user.cookie_header()
        self._ws = await connect(
            self.media_url, additional_headers=headers, compression=None, max_size=2**20
        )
        self._t0 = self._loop.time()
        self._tasks = [
            asyncio.create_task(self._receive(), name="softphone-receive"),
            asyncio.create_task(self._send_replies(), name="softphone-replies"),
        ]
        if send_start:
            await self.send_json({"type": "start", "call": self.call, "token": self.token})

    async def close(self) -> None:
        if self._turn_timer is not None:
            self._turn_timer.cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._ws is not None:
            await self._ws.close()

    # what the page sends

    async def send_audio(self, audio: bytes, *, realtime: bool | None = None) -> None:
        """The microphone: `audio` (16 kHz PCM) in 20 ms frames, the last padded with
        silence, as the capture worklet posts them; only once the call has started.
        Sent at once (`realtime` is not simulated)."""
        await self.wait_for(lambda: self.call_id is not None)
        if len(audio) % FRAME_BYTES:
            audio += bytes(FRAME_BYTES - len(audio) % FRAME_BYTES)
        for start in range(0, len(audio), FRAME_BYTES):
            await self.send_raw(audio[start : start + FRAME_BYTES])

    async def send_dtmf(self, digit: str) -> None:
        await self.send_json({"type": "dtmf", "digit": digit})

    async def send_stop(self, *, then_close: bool = True) -> None:
        """The Hang up button: `hangup`, then (as the page) wait for the server to close,
        closing after `HANGUP_GRACE_S` if it does not (a violation)."""
        self._hung_up = True
        await self.send_json({"type": "hangup"})
        if not then_close:
            return
        try:
            await self.wait_closed(HANGUP_GRACE_S)
        except TimeoutError:
            self._violation("the server did not close the call after hangup")
            await self.hang_up()

    async def hang_up(self) -> None:
        """Close the socket abruptly (the tab closed)."""
        assert self._ws is not None
        await self._ws.close()

    async def send_json(self, message: Mapping[str, Any]) -> None:
        await self.send_raw(msgspec.json.encode(message).decode())

    async def send_raw(self, frame: str | bytes) -> None:
        assert self._ws is not None, "connect() first"
        await self._ws.send(frame)

    # internals (waiting and reading: `ObservedStream`)

    async def _receive(self) -> None:
        assert self._ws is not None
        try:
            async for message in self._ws:
                self._on_frame(message)
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self._ws.close_code
            if self._turn_timer is not None:
                self._turn_timer.cancel()
            self._replies.put_nowait(None)
            self.closed.set()
            self._changed()

    def _on_frame(self, frame: str | bytes) -> None:
        now = self._loop.time()
        at = now - self._t0
        if self.end is not None:
            self._violation(f"a frame after end: {frame[:80]!r}")
        if isinstance(frame, bytes):
            if self.call_id is None:
                self._violation("audio before started")
            if len(frame) % 2 or not MIN_FRAME_BYTES <= len(frame) <= MAX_FRAME_BYTES:
                self._violation(f"audio frame of {len(frame)} bytes: frames are 20 to 40 ms")
            self.audio += frame
            self.received.append(Received(at, "media", size=len(frame)))
            self._queue_playout(now, len(frame))
            self._changed()
            return
        try:
            message = _DECODER.decode(frame)
        except msgspec.DecodeError as error:
            self._violation(f"{error}: {frame[:200]}")
            return
        if self.call_id is None and not isinstance(message, _Started):
            self._violation(f"{message.__class__.__name__} before started")
        if isinstance(message, _Started):
            if self.call_id is not None:
                self._violation("a second started")
            self.call_id = message.call_id
            self.received.append(Received(at, "started", name=message.call_id))
        elif isinstance(message, _TurnEnd):
            name = str(message.turn)
            if self.marks_received and message.turn <= int(self.marks_received[-1]):
                self._violation(f"turn_end {message.turn} after {self.marks_received[-1]}")
            self.marks_received.append(name)
            self.received.append(Received(at, "turn_end", name=name))
            self._queue_turn(now, name)
        elif isinstance(message, _Interrupt):
            self.received.append(Received(at, "interrupt"))
            self._flush(now)
        else:
            self.end = message
            self.received.append(Received(at, "end", name=message.outcome))
        self._changed()

    def _queue_playout(self, now: float, n_bytes: int) -> None:
        start = max(now, self._playout_end)
        self._playout_end = start + n_bytes / BYTES_PER_S
        while self._segments and sum(self._segments[0]) <= now:
            self._segments.popleft()
        self._segments.append((start, n_bytes / BYTES_PER_S))

    def _queue_turn(self, now: float, name: str) -> None:
        due = max(now, self._playout_end)
        if not self._pending_turns and due <= now:
            self._played(name)
            return
        self._pending_turns.append((due, name))
        if self._turn_timer is None:
            self._turn_timer = self._loop.call_at(due, self._fire_turns)

    def _fire_turns(self) -> None:
        self._turn_timer = None
        now = self._loop.time()
        while self._pending_turns and self._pending_turns[0][0] <= now + 0.0005:
            self._played(self._pending_turns.popleft()[1])
        if self._pending_turns:
            self._turn_timer = self._loop.call_at(self._pending_turns[0][0], self._fire_turns)
        self._changed()

    def _flush(self, now: float) -> None:
        """The playback worklet's flush: queued audio dropped, pending turns played."""
        for start, length_s in self._segments:
            played_s = min(length_s, max(0.0, now - start))
            self.cleared_audio_bytes += int((length_s - played_s) * BYTES_PER_S)
        self._segments.clear()
        self._playout_end = now
        if self._turn_timer is not None:
            self._turn_timer.cancel()
            self._turn_timer = None
        while self._pending_turns:
            self._played(self._pending_turns.popleft()[1])

    def _played(self, name: str) -> None:
        self.marks_echoed.append((name, self._loop.time() - self._t0))
        self._replies.put_nowait(
            msgspec.json.encode({"type": "played", "turn": int(name)}).decode()
        )

    async def _send_replies(self) -> None:
        """The one writer of `played`, so they leave in the order they fell due; the page
        sends none once the call has ended or the user hung up."""
        while (text := await self._replies.get()) is not None:
            if self._hung_up or self.end is not None:
                continue
            try:
                await self.send_raw(text)
            except ConnectionClosed:
                return
