"""One call from the dev client, made exactly as Twilio makes it.

1. POST the voice webhook (signed with the auth token over the public URL, if one is
   configured), and read the TwiML's `<Connect action><Stream url><Parameter>`.
2. Subscribe to the call's events feed (when an API key is given) and print it.
3. Open the stream with a signed handshake; send `connected` and `start`; then, every
   20 ms in real time, one 160-byte caller frame, and one frame of the agent's queued
   audio played out (speakers, recording). Marks come back once the audio before
   them has played; `clear` drops the queue (and pending marks echo) at once.
4. Hang-up (`hang_up` set, i.e. Ctrl-C): `stop`, then close. If the server closes the
   stream instead, POST the `<Connect action>` and report the next step.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from dataclasses import dataclass, field
from typing import Protocol, TextIO
from urllib.parse import urlsplit, urlunsplit

import httpx
import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from adapters.twilio.signature import SIGNATURE_HEADER, sign
from entrypoints.dev_client import feed, twiml
from entrypoints.dev_client.audio import FRAME_BYTES
from entrypoints.dev_client.playback import SILENCE_FRAME, PlaybackQueue
from entrypoints.dev_client.stream_messages import (
    ServerClear,
    ServerMark,
    ServerMedia,
    TwilioMessages,
    decode_server,
    new_sid,
)

FRAME_S = 0.020
FEED_GRACE_S = 2.0
"""After the stream closes, how long to wait for the feed's `ended` event."""


class DevClientError(Exception):
    """The call could not be made; the message says why and what to check."""


class AudioSource(Protocol):
    def next_frame(self) -> bytes:
        """The caller's next 20 ms (160 bytes of mu-law); silence when there is none."""
        ...


class Player(Protocol):
    def play(self, frame: bytes) -> None: ...

    def clear(self) -> None: ...


class BytesSource:
    """Caller audio from memory (a converted WAV file), then silence, as a phone line."""

    def __init__(self, audio: bytes) -> None:
        self._audio, self._offset = audio, 0

    @property
    def finished(self) -> bool:
        return self._offset >= len(self._audio)

    def next_frame(self) -> bytes:
        frame = self._audio[self._offset : self._offset + FRAME_BYTES]
        self._offset += FRAME_BYTES
        return frame + SILENCE_FRAME[len(frame) :]


@dataclass(frozen=True, slots=True, kw_only=True)
class DevCallOptions:
    server_url: str = "http://127.0.0.1:8000"
    """Where the server listens, as this machine reaches it."""
    public_url: str | None = None
    """The server's PUBLIC_URL: what Twilio requests and signs. Default: `server_url`."""
    auth_token: str | None = None
    """TWILIO_AUTH_TOKEN; None sends unsigned requests (server runs `serve --dev`)."""
    api_key: str | None = None
    """A FRONTDESK_API_KEYS key, for the events feed; None: no live transcript."""
    account_sid: str | None = None
    from_number: str = "+14155550123"
    to_number: str = "+15555550100"


@dataclass(slots=True)
class DevCallResult:
    call_sid: str
    caller_audio: bytearray = field(default_factory=bytearray)
    """What the caller sent, frame by frame; aligned with `agent_audio` (mu-law)."""
    agent_audio: bytearray = field(default_factory=bytearray)
    """What played on the caller's side, silence included, one frame per caller frame."""
    events: list[feed.FeedEvent] = field(default_factory=list)
    marks_echoed: list[str] = field(default_factory=list)
    clears: int = 0
    cleared_bytes: int = 0
    hung_up: bool = False
    """True when the caller hung up; False when the server ended the stream."""
    next_step: twiml.TwimlReply | None = None


class DevCall:
    """One call. `run` returns when the call is over, whichever side ended it."""

    def __init__(
        self,
        options: DevCallOptions,
        source: AudioSource,
        *,
        player: Player | None = None,
        out: TextIO = sys.stdout,
    ) -> None:
        self._options, self._source, self._player, self._out = options, source, player, out
        self._public = (options.public_url or options.server_url).rstrip("/")
        self.result = DevCallResult(call_sid=new_sid("CA"))
        self._messages = TwilioMessages(
            account_sid=options.account_sid or new_sid("AC"),
            call_sid=self.result.call_sid,
            stream_sid=new_sid("MZ"),
        )
        self._playback = PlaybackQueue()
        self.streaming = asyncio.Event()
        """Set once `start` has been sent: from then on, audio flows."""

    async def run(self, hang_up: asyncio.Event | None = None) -> DevCallResult:
        hang_up = hang_up or asyncio.Event()
        async with httpx.AsyncClient(timeout=10) as http:
            reply = await self._post(http, "/twilio/voice", "ringing")
            if reply.stream_url is None:
                self._say(f"the server did not connect a stream: {reply.describe()}")
                self.result.next_step = reply
                return self.result
            follower = await self._follow_feed()
            try:
                await self._stream(reply, hang_up)
                if follower is not None:  # the feed's `ended` may trail the stream's close
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(follower), FEED_GRACE_S)
            finally:
                if follower is not None:
                    follower.cancel()
                    await asyncio.gather(follower, return_exceptions=True)
            if self.result.hung_up:
                self._say("you hung up")
            elif reply.connect_action:
                path = urlsplit(reply.connect_action).path
                self.result.next_step = await self._post(http, path, "in-progress")
                self._say(f"next: {self.result.next_step.describe()}")
        return self.result

    # --- HTTP, as Twilio -----------------------------------------------------------

    async def _post(self, http: httpx.AsyncClient, path: str, status: str) -> twiml.TwimlReply:
        params = {
            "AccountSid": self._messages.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": self.result.call_sid,
            "CallStatus": status,
            "Called": self._options.to_number,
            "Caller": self._options.from_number,
            "Direction": "inbound",
            "From": self._options.from_number,
            "To": self._options.to_number,
        }
        headers = {}
        if self._options.auth_token:
            headers[SIGNATURE_HEADER] = sign(self._public + path, params, self._options.auth_token)
        url = self._options.server_url.rstrip("/") + path
        try:
            response = await http.post(url, data=params, headers=headers)
        except httpx.HTTPError as error:
            raise DevClientError(f"could not reach {url}: {error}") from None
        if response.status_code == 403:
            raise DevClientError(
                f"the server refused {path} (403): the auth token differs from the server's "
                "TWILIO_AUTH_TOKEN, PUBLIC_URL differs, or (no token) the server is not "
                "running with --dev"
            )
        if response.status_code != 200:
            raise DevClientError(f"{path} answered {response.status_code}: {response.text[:200]}")
        return twiml.parse(response.text)

    # --- the events feed -------------------------------------------------------------

    async def _follow_feed(self) -> asyncio.Task[None] | None:
        if not self._options.api_key:
            self._say("no API key: the live transcript is off (pass --api-key)")
            return None
        try:
            connection = await feed.open_feed(
                self._options.server_url, self.result.call_sid, self._options.api_key
            )
        except (InvalidStatus, OSError) as error:
            self._say(f"the events feed is unavailable: {error}")
            return None
        return asyncio.create_task(self._print_feed(connection))

    async def _print_feed(self, connection: ClientConnection) -> None:
        async with connection:
            async for event in feed.events(connection):
                self.result.events.append(event)
                feed.print_event(event, self._out)

    # --- the media stream ------------------------------------------------------------

    async def _stream(self, reply: twiml.TwimlReply, hang_up: asyncio.Event) -> None:
        assert reply.stream_url is not None
        headers = {}
        if self._options.auth_token:
            headers[SIGNATURE_HEADER] = sign(reply.stream_url, {}, self._options.auth_token)
        url = self._local(reply.stream_url)
        try:
            ws = await connect(url, additional_headers=headers, compression=None)
        except InvalidStatus as error:
            raise DevClientError(
                f"the server refused the media stream ({error.response.status_code}): "
                "check TWILIO_AUTH_TOKEN and PUBLIC_URL"
            ) from None
        async with ws:
            await ws.send(self._messages.connected())
            await ws.send(self._messages.start(reply.stream_parameters))
            self.streaming.set()
            self._say(f"connected: call {self.result.call_sid}")
            receiver = asyncio.create_task(self._receive(ws))
            ticker = asyncio.create_task(self._tick(ws))
            hung_up = asyncio.create_task(hang_up.wait())
            try:
                await asyncio.wait({receiver, ticker, hung_up}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (receiver, ticker, hung_up):
                    task.cancel()
                await asyncio.gather(receiver, ticker, hung_up, return_exceptions=True)
            failure = ticker.exception() if ticker.done() and not ticker.cancelled() else None
            if failure is not None and not isinstance(failure, ConnectionClosed):
                raise failure
            if hang_up.is_set() and ws.close_code is None:
                self.result.hung_up = True
                with contextlib.suppress(ConnectionClosed):
                    await ws.send(self._messages.stop())
        self.result.clears = self._playback.clears
        self.result.cleared_bytes = self._playback.cleared_bytes

    def _local(self, public: str) -> str:
        """`public` (a URL on PUBLIC_URL) rebased on the server URL this machine reaches."""
        server = urlsplit(self._options.server_url)
        scheme = {"https": "wss", "http": "ws"}.get(server.scheme, server.scheme)
        parts = urlsplit(public)
        prefix = urlsplit(self._public).path.rstrip("/")
        path = parts.path[len(prefix) :] if parts.path.startswith(prefix) else parts.path
        return urlunsplit((scheme, server.netloc, server.path.rstrip("/") + path, "", ""))

    async def _tick(self, ws: ClientConnection) -> None:
        """Every 20 ms: send a caller frame, play one frame of the agent's queue."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            frame = self._source.next_frame()
            await ws.send(self._messages.media(frame))
            played = self._playback.take(FRAME_BYTES)
            self.result.caller_audio += frame
            self.result.agent_audio += played
            if self._player is not None:
                self._player.play(played)
            for name in self._playback.due_marks():
                await self._echo_mark(ws, name)
            due += FRAME_S
            await asyncio.sleep(max(0.0, due - loop.time()))

    async def _receive(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in ws:
                try:
                    message = decode_server(frame)
                except msgspec.DecodeError as error:
                    self._say(f"protocol violation: {error}")
                    continue
                match message:
                    case ServerMedia(media=media):
                        self._playback.add(media.payload)
                    case ServerMark(mark=mark):
                        self._playback.add_mark(mark.name)
                    case ServerClear():
                        # Twilio drops its queue at once; so do the speakers.
                        if self._player is not None:
                            self._player.clear()
                        for name in self._playback.clear():
                            await self._echo_mark(ws, name)

    async def _echo_mark(self, ws: ClientConnection, name: str) -> None:
        self.result.marks_echoed.append(name)
        await ws.send(self._messages.mark(name))

    def _say(self, text: str) -> None:
        print(f"-- {text}", file=self._out, flush=True)
