"""A strict stand-in for Twilio: signed webhooks, TwiML checks, and a Media Stream caller.

Written from Twilio's documentation, independently of `adapters.twilio`, so the
adapter is checked against the protocol rather than against itself.

- `sign`, `post_voice_webhook`, `post_status_callback`, `parse_twiml`: the HTTP side.
- `SimulatedCall`: the media stream as Twilio drives it. It plays our audio out in
  (simulated) real time, echoes each mark once the audio queued before it would have
  played (at once on `clear`, which empties the queue), and records every message we
  send that Twilio would reject as a protocol violation — `assert_no_violations()`
  fails the test. Everything received is kept with its time; tests await conditions
  (`wait_for_audio`, `wait_for_mark_echoed`, ...) rather than sleeping.

One instance costs two idle tasks and a timer per pending mark, so a benchmark can
run a few hundred in one process.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support.observed_stream import MarkedStream

SIGNATURE_HEADER: Final = "X-Twilio-Signature"
FRAME_BYTES: Final = 160  # 20 ms of 8 kHz mu-law
FRAME_S: Final = 0.020
BYTES_PER_S: Final = 8000
API_VERSION: Final = "2010-04-01"

# --- identities and signatures --------------------------------------------------------


def new_sid(prefix: str) -> str:
    """A Twilio-shaped sid: two-letter prefix and 32 lowercase hex digits (34 chars)."""
    if len(prefix) != 2 or not prefix.isupper():
        raise ValueError(f"a sid prefix is two capitals: {prefix!r}")
    return prefix + secrets.token_hex(16)


def sign(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """`X-Twilio-Signature`: base64 HMAC-SHA1 of the URL then each sorted name+value."""
    data = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True, slots=True)
class CallIdentity:
    call_sid: str
    account_sid: str
    from_number: str
    to_number: str


def new_call(
    from_number: str = "+15005550006",
    to_number: str = "+15551230000",
    *,
    account_sid: str | None = None,
) -> CallIdentity:
    return CallIdentity(new_sid("CA"), account_sid or new_sid("AC"), from_number, to_number)


# --- webhooks ---------------------------------------------------------------------------


def call_params(call: CallIdentity, call_status: str, **extra: str) -> dict[str, str]:
    """The standard form fields Twilio posts for a call (voice URL, action, status)."""
    params = {
        "AccountSid": call.account_sid,
        "ApiVersion": API_VERSION,
        "CallSid": call.call_sid,
        "CallStatus": call_status,
        "Called": call.to_number,
        "Caller": call.from_number,
        "Direction": "inbound",
        "From": call.from_number,
        "To": call.to_number,
    }
    params.update(extra)
    return params


async def post_signed(
    client: httpx.AsyncClient,
    url: str,
    params: Mapping[str, str],
    auth_token: str,
    *,
    signed_url: str | None = None,
    signature: str | None = None,
) -> httpx.Response:
    """POST `params` form-encoded to `url`, signed as Twilio would sign it.

    `signed_url` is the public URL Twilio believes it requested when that differs
    from where the test server listens; `signature` overrides the signature (forgery).
    """
    header = signature if signature is not None else sign(signed_url or url, params, auth_token)
    return await client.post(url, data=dict(params), headers={SIGNATURE_HEADER: header})


async def post_voice_webhook(
    client: httpx.AsyncClient,
    url: str,
    auth_token: str,
    call: CallIdentity,
    *,
    signed_url: str | None = None,
    signature: str | None = None,
) -> httpx.Response:
    """An incoming call ringing at our voice URL."""
    params = call_params(call, "ringing")
    return await post_signed(
        client, url, params, auth_token, signed_url=signed_url, signature=signature
    )


async def post_status_callback(
    client: httpx.AsyncClient,
    url: str,
    auth_token: str,
    call: CallIdentity,
    *,
    call_status: str = "completed",
    duration_s: int | None = None,
    sequence_number: int = 0,
    signed_url: str | None = None,
    signature: str | None = None,
) -> httpx.Response:
    extra = {"CallbackSource": "call-progress-events", "SequenceNumber": str(sequence_number)}
    if duration_s is not None:
        extra["CallDuration"] = str(duration_s)
    params = call_params(call, call_status, **extra)
    return await post_signed(
        client, url, params, auth_token, signed_url=signed_url, signature=signature
    )


# --- TwiML ----------------------------------------------------------------------------

_VERBS: Final = frozenset(
    {"Say", "Play", "Pause", "Gather", "Dial", "Hangup", "Redirect", "Reject", "Connect"}
    | {"Start", "Stop", "Record", "Enqueue", "Leave", "Pay", "Refer", "Sms", "Prompt"}
)


class TwimlRejected(AssertionError):
    """TwiML Twilio would refuse (application error 12100 and friends)."""


@dataclass(frozen=True, slots=True)
class TwimlReply:
    verbs: tuple[str, ...]
    """Top-level verbs in order, e.g. ("Connect",) or ("Say", "Hangup")."""
    says: tuple[str, ...] = ()
    connect_action: str | None = None
    stream_url: str | None = None
    stream_parameters: Mapping[str, str] = field(default_factory=dict)
    dial_number: str | None = None
    dial_action: str | None = None


def parse_twiml(text: str) -> TwimlReply:
    """Parse a TwiML reply strictly; raise `TwimlRejected` where Twilio would fail."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        raise TwimlRejected(f"not XML: {error}") from None
    if root.tag != "Response":
        raise TwimlRejected(f"root element is <{root.tag}>, not <Response>")
    verbs: list[str] = []
    says: list[str] = []
    reply: dict[str, Any] = {}
    for verb in root:
        if verb.tag not in _VERBS:
            raise TwimlRejected(f"unknown verb <{verb.tag}>")
        verbs.append(verb.tag)
        if verb.tag == "Say":
            says.append(verb.text or "")
        elif verb.tag == "Dial":
            reply["dial_number"] = (verb.text or "").strip() or None
            reply["dial_action"] = verb.get("action")
        elif verb.tag == "Connect":
            reply.update(_parse_connect(verb))
    return TwimlReply(verbs=tuple(verbs), says=tuple(says), **reply)


def _parse_connect(connect_el: ET.Element) -> dict[str, Any]:
    streams = connect_el.findall("Stream")
    if len(streams) != 1 or len(connect_el) != 1:
        raise TwimlRejected("<Connect> must hold exactly one <Stream> here")
    stream = streams[0]
    url = stream.get("url") or ""
    parts = urlsplit(url)
    if parts.scheme not in ("wss", "ws") or not parts.netloc:
        raise TwimlRejected(f"<Stream url> must be a ws(s) URL: {url!r}")
    if parts.query:
        raise TwimlRejected("<Stream url> takes no query string; use <Parameter>")
    parameters: dict[str, str] = {}
    for parameter in stream:
        name = parameter.get("name")
        if parameter.tag != "Parameter" or not name or parameter.get("value") is None:
            raise TwimlRejected(f"bad <Stream> child: {ET.tostring(parameter)!r}")
        parameters[name] = parameter.get("value", "")
    return {
        "connect_action": connect_el.get("action"),
        "stream_url": url,
        "stream_parameters": parameters,
    }


# --- what our server may send on the media stream --------------------------------------


class _Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel"):
    pass


class _MediaBody(_Strict, frozen=True):
    payload: bytes  # msgspec decodes base64 strictly: bad padding or alphabet fails


class _MarkBody(_Strict, frozen=True):
    name: str


class _Out(_Strict, frozen=True, tag_field="event"):
    stream_sid: str


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


# --- the media stream --------------------------------------------------------------------


class SimulatedCall(MarkedStream):
    """Twilio's side of one bidirectional Media Stream (`<Connect><Stream>`).

    `stream_url` is the URL from the TwiML (what the handshake signature covers);
    `connect_url`, if given, is where the test server really listens. With
    `realtime=True` caller audio is paced at 20 ms per 160-byte frame; otherwise sent
    as fast as the socket takes it. Our audio is always played out in simulated
    real time (8000 bytes per second) for mark timing.
    """

    def __init__(
        self,
        stream_url: str,
        *,
        auth_token: str | None,
        custom_parameters: Mapping[str, str] | None = None,
        call: CallIdentity | None = None,
        connect_url: str | None = None,
        realtime: bool = False,
        signature: str | None = None,
    ) -> None:
        self.stream_url = stream_url
        self.connect_url = connect_url or stream_url
        self.call = call or new_call()
        self.stream_sid = new_sid("MZ")
        self.custom_parameters = dict(custom_parameters or {})
        self.realtime = realtime
        self._auth_token = auth_token
        self._signature = signature
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
        # playout model
        self._playout_end = 0.0
        self._segments: deque[tuple[float, int]] = deque()
        self._pending_marks: deque[tuple[float, str]] = deque()
        self._mark_timer: asyncio.TimerHandle | None = None
        # what we saw
        self.received: list[Received] = []
        self.audio = bytearray()
        """All audio our server sent, in order (including audio later cleared)."""
        self.marks_received: list[str] = []
        self.marks_echoed: list[tuple[str, float]] = []
        self.clears: list[float] = []
        self.cleared_audio_bytes = 0
        """Audio dropped by clears before it was played."""
        self.violations: list[str] = []
        self.closed = asyncio.Event()
        self.close_code: int | None = None

    # lifecycle

    async def connect(self, *, send_start: bool = True) -> None:
        """Open the socket with a signed handshake; send `connected` and `start`."""
        headers: dict[str, str] = {}
        if self._signature is not None:
            headers[SIGNATURE_HEADER] = self._signature
        elif self._auth_token is not None:
            headers[SIGNATURE_HEADER] = sign(self.stream_url, {}, self._auth_token)
        self._ws = await connect(
            self.connect_url, additional_headers=headers, compression=None, max_size=2**20
        )
        self._t0 = self._loop.time()
        self._tasks = [
            asyncio.create_task(self._receive(), name=f"sim-receive-{self.stream_sid}"),
            asyncio.create_task(self._echo_marks(), name=f"sim-echo-{self.stream_sid}"),
        ]
        await self.send_json({"event": "connected", "protocol": "Call", "version": "1.0.0"})
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

    # what Twilio sends

    async def send_start(
        self, *, encoding: str = "audio/x-mulaw", sample_rate: int = 8000, channels: int = 1
    ) -> None:
        self._started = True
        await self.send_json(
            {
                "event": "start",
                "sequenceNumber": self._next_sequence(),
                "streamSid": self.stream_sid,
                "start": {
                    "accountSid": self.call.account_sid,
                    "streamSid": self.stream_sid,
                    "callSid": self.call.call_sid,
                    "tracks": ["inbound"],
                    "customParameters": self.custom_parameters,
                    "mediaFormat": {
                        "encoding": encoding,
                        "sampleRate": sample_rate,
                        "channels": channels,
                    },
                },
            }
        )

    async def send_audio(self, audio: bytes, *, realtime: bool | None = None) -> None:
        """The caller speaks: `audio` as 160-byte media frames (the last may be short)."""
        paced = self.realtime if realtime is None else realtime
        for start in range(0, len(audio), FRAME_BYTES):
            if paced:
                now = self._loop.time()
                self._next_frame_at = max(self._next_frame_at, now)
                if self._next_frame_at > now:
                    await asyncio.sleep(self._next_frame_at - now)
                self._next_frame_at += FRAME_S
            self._chunk += 1
            payload = base64.b64encode(audio[start : start + FRAME_BYTES]).decode()
            await self.send_json(
                {
                    "event": "media",
                    "sequenceNumber": self._next_sequence(),
                    "streamSid": self.stream_sid,
                    "media": {
                        "track": "inbound",
                        "chunk": str(self._chunk),
                        "timestamp": str((self._chunk - 1) * 20),
                        "payload": payload,
                    },
                }
            )

    async def send_dtmf(self, digit: str) -> None:
        await self.send_json(
            {
                "event": "dtmf",
                "streamSid": self.stream_sid,
                "sequenceNumber": self._next_sequence(),
                "dtmf": {"track": "inbound_track", "digit": digit},
            }
        )

    async def send_stop(self, *, then_close: bool = True) -> None:
        """The caller hung up: `stop`, then (as Twilio does) close the socket."""
        self._stopped = True
        await self.send_json(
            {
                "event": "stop",
                "sequenceNumber": self._next_sequence(),
                "streamSid": self.stream_sid,
                "stop": {"accountSid": self.call.account_sid, "callSid": self.call.call_sid},
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
        elif message.stream_sid != self.stream_sid:
            self._violation(f"wrong streamSid {message.stream_sid!r}")
            return
        now = self._loop.time()
        at = now - self._t0
        if isinstance(message, _OutMedia):
            payload = message.media.payload
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
            "sequenceNumber": self._next_sequence(),
            "streamSid": self.stream_sid,
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
