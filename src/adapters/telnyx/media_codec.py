"""Telnyx's media-streaming wire format: typed inbound events, pure translation, lean
encoders.

Inbound frames decode with one msgspec decoder into a tagged union on `event`; audio
payloads arrive already base64-decoded (strictly: a bad payload is `Malformed`).
Sequence numbers, sent as strings, are checked here and read as ints. Nothing here
does I/O, and `decode` never raises.
"""

from __future__ import annotations

import binascii
from typing import Final

import msgspec

from application.ports.voice import AudioEncoding, AudioFormat

MAX_FRAME_CHARS: Final = 64 * 1024
"""Larger inbound frames are `Malformed` without being parsed."""


class _Inbound(msgspec.Struct, frozen=True, tag_field="event"):
    pass


class MediaFormat(msgspec.Struct, frozen=True):
    encoding: str
    sample_rate: int
    channels: int = 1


class CustomParameter(msgspec.Struct, frozen=True):
    name: str
    value: str


class StartInfo(msgspec.Struct, frozen=True):
    call_control_id: str
    media_format: MediaFormat
    call_session_id: str = ""
    from_number: str = msgspec.field(default="", name="from")
    to_number: str = msgspec.field(default="", name="to")
    custom_parameters: dict[str, str] | list[CustomParameter] = {}
    client_state: str | None = None

    def parameters(self) -> dict[str, str]:
        """`custom_parameters` as a mapping, whichever of the two shapes came."""
        if isinstance(self.custom_parameters, dict):
            return dict(self.custom_parameters)
        return {p.name: p.value for p in self.custom_parameters}


class MediaInfo(msgspec.Struct, frozen=True):
    payload: bytes
    track: str = "inbound"
    chunk: str | int = ""
    timestamp: str | int = ""

    def __repr__(self) -> str:
        return f"MediaInfo({self.track}, chunk={self.chunk}, {len(self.payload)} bytes)"


class DtmfInfo(msgspec.Struct, frozen=True):
    digit: str


class MarkInfo(msgspec.Struct, frozen=True):
    name: str


class ErrorInfo(msgspec.Struct, frozen=True):
    code: int | str = ""
    title: str = ""
    detail: str = ""


class Connected(_Inbound, frozen=True, tag="connected"):
    version: str = ""


class Start(_Inbound, frozen=True, tag="start"):
    start: StartInfo
    stream_id: str = ""
    sequence_number: str | int = ""


class Media(_Inbound, frozen=True, tag="media"):
    media: MediaInfo
    sequence_number: str | int
    stream_id: str = ""


class Dtmf(_Inbound, frozen=True, tag="dtmf"):
    dtmf: DtmfInfo
    stream_id: str = ""
    sequence_number: str | int = ""


class Mark(_Inbound, frozen=True, tag="mark"):
    mark: MarkInfo
    stream_id: str = ""
    sequence_number: str | int = ""


class Error(_Inbound, frozen=True, tag="error"):
    payload: ErrorInfo = ErrorInfo()
    stream_id: str = ""
    sequence_number: str | int = ""


class Stop(_Inbound, frozen=True, tag="stop"):
    stream_id: str = ""
    sequence_number: str | int = ""


InboundEvent = Connected | Start | Media | Dtmf | Mark | Error | Stop


class Malformed(msgspec.Struct, frozen=True):
    """Not a valid frame of a known event (bad JSON, wrong types, bad base64, huge)."""

    reason: str


class Unknown(msgspec.Struct, frozen=True):
    """A well-formed frame of an event this adapter does not know; ignore it."""

    event: str


class _EventName(msgspec.Struct, frozen=True):
    event: str


_DECODER: Final[msgspec.json.Decoder[InboundEvent]] = msgspec.json.Decoder(InboundEvent)
_NAME_DECODER: Final = msgspec.json.Decoder(_EventName)
_KNOWN_EVENTS: Final = frozenset({"connected", "start", "media", "dtmf", "mark", "error", "stop"})
_MAX_SEQUENCE_DIGITS: Final = 18


def decode(frame: str | bytes) -> InboundEvent | Malformed | Unknown:
    """One inbound text frame as a typed event; never raises.

    Only a frame the main decoder rejects is looked at again, to tell an unknown
    `event` (ignored) from a broken frame of a known one (counted as malformed). A
    sequence number that is not a count is malformed too: the leg orders by it.
    """
    if len(frame) > MAX_FRAME_CHARS:
        return Malformed(f"frame of {len(frame)} characters exceeds {MAX_FRAME_CHARS}")
    try:
        event = _DECODER.decode(frame)
    except msgspec.DecodeError as error:
        try:
            name = _NAME_DECODER.decode(frame).event
        except msgspec.DecodeError:
            return Malformed(str(error))
        if name not in _KNOWN_EVENTS:
            return Unknown(name)
        return Malformed(str(error))
    if isinstance(event, Connected):
        return event
    if event.sequence_number == "" and not isinstance(event, Media):
        return event
    if sequence_of(event) is None:
        return Malformed(f"sequence_number {event.sequence_number!r} is not a count")
    return event


def sequence_of(event: Start | Media | Dtmf | Mark | Error | Stop) -> int | None:
    """The event's sequence number; None when it has none (or not a count)."""
    value = event.sequence_number
    if isinstance(value, int):
        return value if value >= 0 else None
    if value.isascii() and value.isdigit() and len(value) <= _MAX_SEQUENCE_DIGITS:
        return int(value)
    return None


# --- audio formats ---------------------------------------------------------------------

_G711: Final = {
    "PCMU": AudioEncoding.PCMU,
    "audio/x-mulaw": AudioEncoding.PCMU,
    "PCMA": AudioEncoding.PCMA,
    "audio/x-alaw": AudioEncoding.PCMA,
}
"""Encoding names Telnyx uses in `media_format` (the codec name; older pages show the
MIME type) for the formats our agent takes as they are."""


class UnsupportedFormat(ValueError):
    """The stream's audio cannot be passed to the agent unchanged."""


def audio_format_of(media_format: MediaFormat) -> AudioFormat:
    """The leg's `AudioFormat` for a stream's `media_format`, or `UnsupportedFormat`.

    Only G.711 (µ-law, A-law) at 8 kHz mono passes through as it is. L16 is refused:
    Telnyx sends it big-endian (RTP's network order) and the agent takes
    little-endian, so every sample would need swapping. G722, OPUS and AMR-WB are
    compressed and would need decoding.
    """
    encoding = _G711.get(media_format.encoding)
    if encoding is None or media_format.sample_rate != 8000 or media_format.channels != 1:
        raise UnsupportedFormat(
            f"unsupported media format {media_format.encoding} {media_format.sample_rate} Hz "
            f"{media_format.channels} channel(s); the stream must be PCMU or PCMA, 8000 Hz, mono"
        )
    return AudioFormat(encoding, 8000)


# --- marks -------------------------------------------------------------------------------

TURN_MARK_PREFIX: Final = "turn-"


def turn_mark(turn: int) -> str:
    """The name of the mark that follows turn `turn`'s audio."""
    return f"{TURN_MARK_PREFIX}{turn}"


def turn_of_mark(name: str) -> int | None:
    """The turn a mark we sent names; None for any other mark."""
    digits = name.removeprefix(TURN_MARK_PREFIX)
    if digits == name or not digits.isdigit() or not digits.isascii():
        return None
    return int(digits)


# --- outbound ----------------------------------------------------------------------------

_MEDIA_PREFIX: Final = '{"event":"media","media":{"payload":"'
_MARK_PREFIX: Final = '{"event":"mark","mark":{"name":'
CLEAR: Final = '{"event":"clear"}'


def encode_media(audio: bytes) -> str:
    """Raw audio in the stream's codec (an RTP payload, no header) as one `media`
    message; Telnyx takes 20 ms to 30 s per message."""
    return _MEDIA_PREFIX + binascii.b2a_base64(audio, newline=False).decode() + '"}}'


def encode_mark(name: str) -> str:
    return _MARK_PREFIX + msgspec.json.encode(name).decode() + "}}"
