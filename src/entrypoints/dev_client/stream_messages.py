"""The Media Streams messages as Twilio sends them, and our server's replies decoded.

Pure: the Twilio adapter's own message structs are encoded here from Twilio's side,
with the sequence numbers, chunks and timestamps Twilio puts on them.
"""

from __future__ import annotations

import secrets

import msgspec

from adapters.twilio import media_codec as wire

_encode = msgspec.json.Encoder().encode


def new_sid(prefix: str) -> str:
    """Twilio's shape: two capitals and 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)


class _FromServer(msgspec.Struct, frozen=True, tag_field="event", rename="camel"):
    stream_sid: str


class _Payload(msgspec.Struct, frozen=True):
    payload: bytes


class _Name(msgspec.Struct, frozen=True):
    name: str


class ServerMedia(_FromServer, frozen=True, tag="media"):
    media: _Payload


class ServerMark(_FromServer, frozen=True, tag="mark"):
    mark: _Name


class ServerClear(_FromServer, frozen=True, tag="clear"):
    pass


ServerMessage = ServerMedia | ServerMark | ServerClear
_decoder: msgspec.json.Decoder[ServerMessage] = msgspec.json.Decoder(ServerMessage)


def decode_server(frame: str | bytes) -> ServerMessage:
    """One frame from our server; raises `msgspec.DecodeError` on anything else."""
    return _decoder.decode(frame)


class TwilioMessages:
    """Twilio's messages for one stream, numbered as Twilio numbers them."""

    def __init__(self, *, account_sid: str, call_sid: str, stream_sid: str) -> None:
        self.account_sid, self.call_sid, self.stream_sid = account_sid, call_sid, stream_sid
        self._sequence = 0
        self._chunk = 0

    def connected(self) -> str:
        return _encode(wire.Connected(protocol="Call", version="1.0.0")).decode()

    def start(self, custom_parameters: dict[str, str]) -> str:
        info = wire.StartInfo(
            account_sid=self.account_sid,
            stream_sid=self.stream_sid,
            call_sid=self.call_sid,
            tracks=["inbound"],
            custom_parameters=custom_parameters,
            media_format=wire.MediaFormat("audio/x-mulaw", 8000, 1),
        )
        start = wire.Start(start=info, stream_sid=self.stream_sid, sequence_number=self._next())
        return _encode(start).decode()

    def media(self, frame: bytes) -> str:
        """One 20 ms frame of caller audio (mu-law)."""
        self._chunk += 1
        info = wire.MediaInfo(
            payload=frame,
            track="inbound",
            chunk=str(self._chunk),
            timestamp=str((self._chunk - 1) * 20),
        )
        media = wire.Media(media=info, stream_sid=self.stream_sid, sequence_number=self._next())
        return _encode(media).decode()

    def mark(self, name: str) -> str:
        """The echo of a mark our server sent, once its audio has played."""
        mark = wire.Mark(
            mark=wire.MarkInfo(name), stream_sid=self.stream_sid, sequence_number=self._next()
        )
        return _encode(mark).decode()

    def stop(self) -> str:
        stop = wire.Stop(
            stop=wire.StopInfo(self.account_sid, self.call_sid),
            stream_sid=self.stream_sid,
            sequence_number=self._next(),
        )
        return _encode(stop).decode()

    def _next(self) -> str:
        self._sequence += 1
        return str(self._sequence)
