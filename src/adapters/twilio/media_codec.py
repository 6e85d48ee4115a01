"""The Media Streams wire format: typed inbound events, pure translation, lean encoders.

Inbound frames decode with one msgspec decoder into a tagged union on `event`; audio
payloads arrive already base64-decoded (msgspec's strict base64, so a bad payload is
`Malformed`). Nothing here does I/O, and `decode` never raises.
"""

from __future__ import annotations

import binascii
from typing import Final

import msgspec

from application.ports.voice import (
    CallerAudio,
    CallerDtmf,
    CallerEvent,
    CallerHungUp,
    TurnPlayed,
)

MAX_FRAME_CHARS: Final = 64 * 1024
"""Larger inbound frames are `Malformed` without being parsed. Twilio sends 20 ms
(160 bytes, ~250 characters of JSON) per media message."""


class _Inbound(msgspec.Struct, frozen=True, tag_field="event", rename="camel"):
    pass


class MediaFormat(msgspec.Struct, frozen=True, rename="camel"):
    encoding: str
    sample_rate: int
    channels: int


class StartInfo(msgspec.Struct, frozen=True, rename="camel"):
    account_sid: str
    stream_sid: str
    call_sid: str
    media_format: MediaFormat
    tracks: list[str] = []
    custom_parameters: dict[str, str] = {}


class MediaInfo(msgspec.Struct, frozen=True, rename="camel"):
    payload: bytes
    track: str = "inbound"
    chunk: str = ""
    timestamp: str = ""

    def __repr__(self) -> str:
        return f"MediaInfo({self.track}, chunk={self.chunk}, {len(self.payload)} bytes)"


class DtmfInfo(msgspec.Struct, frozen=True, rename="camel"):
    digit: str
    track: str = "inbound_track"


class MarkInfo(msgspec.Struct, frozen=True, rename="camel"):
    name: str


class StopInfo(msgspec.Struct, frozen=True, rename="camel"):
    account_sid: str = ""
    call_sid: str = ""


class Connected(_Inbound, frozen=True, tag="connected"):
    protocol: str = ""
    version: str = ""


class Start(_Inbound, frozen=True, tag="start"):
    start: StartInfo
    stream_sid: str = ""
    sequence_number: str = ""


class Media(_Inbound, frozen=True, tag="media"):
    media: MediaInfo
    stream_sid: str = ""
    sequence_number: str = ""


class Dtmf(_Inbound, frozen=True, tag="dtmf"):
    dtmf: DtmfInfo
    stream_sid: str = ""
    sequence_number: str = ""


class Mark(_Inbound, frozen=True, tag="mark"):
    mark: MarkInfo
    stream_sid: str = ""
    sequence_number: str = ""


class Stop(_Inbound, frozen=True, tag="stop"):
    stop: StopInfo = StopInfo()
    stream_sid: str = ""
    sequence_number: str = ""


InboundEvent = Connected | Start | Media | Dtmf | Mark | Stop


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
_KNOWN_EVENTS: Final = frozenset({"connected", "start", "media", "dtmf", "mark", "stop"})


def decode(frame: str | bytes) -> InboundEvent | Malformed | Unknown:
    """One inbound text frame as a typed event; never raises.

    Only a frame the main decoder rejects is looked at again, to tell an unknown
    `event` (ignored) from a broken frame of a known one (counted as malformed).
    """
    if len(frame) > MAX_FRAME_CHARS:
        return Malformed(f"frame of {len(frame)} characters exceeds {MAX_FRAME_CHARS}")
    try:
        return _DECODER.decode(frame)
    except msgspec.DecodeError as error:
        try:
            name = _NAME_DECODER.decode(frame).event
        except msgspec.DecodeError:
            return Malformed(str(error))
        if name not in _KNOWN_EVENTS:
            return Unknown(name)
        return Malformed(str(error))


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


def to_caller_event(event: InboundEvent) -> CallerEvent | None:
    """The application's view of an inbound event; None for `connected`/`start` and for
    a mark that names no turn of ours."""
    if isinstance(event, Media):
        return CallerAudio(event.media.payload)
    if isinstance(event, Dtmf):
        return CallerDtmf(event.dtmf.digit)
    if isinstance(event, Mark):
        turn = turn_of_mark(event.mark.name)
        return None if turn is None else TurnPlayed(turn)
    if isinstance(event, Stop):
        return CallerHungUp()
    return None


# --- outbound ------------------------------------------------------------------------


class OutboundEncoder:
    """Encodes our messages for one stream; the JSON around each payload is built once.

    Encoding a 160-byte media frame is one base64 call and one string join.
    """

    __slots__ = ("_clear", "_mark_prefix", "_media_prefix")

    def __init__(self, stream_sid: str) -> None:
        sid = msgspec.json.encode(stream_sid).decode()
        self._media_prefix = '{"event":"media","streamSid":' + sid + ',"media":{"payload":"'
        self._mark_prefix = '{"event":"mark","streamSid":' + sid + ',"mark":{"name":'
        self._clear = '{"event":"clear","streamSid":' + sid + "}"

    def media(self, audio: bytes) -> str:
        """Raw 8 kHz mu-law `audio` (no file header) as one `media` message."""
        return self._media_prefix + binascii.b2a_base64(audio, newline=False).decode() + '"}}'

    def mark(self, name: str) -> str:
        return self._mark_prefix + msgspec.json.encode(name).decode() + "}}"

    def clear(self) -> str:
        return self._clear
