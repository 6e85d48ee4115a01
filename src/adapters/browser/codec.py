"""The softphone's wire format: JSON control frames (text) and raw audio frames (binary).

Pure translation, no I/O. Audio both ways is 16-bit signed little-endian PCM, mono,
16 kHz, in frames of 20 to 40 ms (640 to 1280 bytes): what the page's AudioWorklet
posts and what its playback ring buffer takes. Decoding never raises: a frame that is
not exactly one of the messages below becomes `Malformed` (with the reason) or, for a
well-formed control frame of a type we do not know, `Unknown`.

Page to server: `{"type":"start","call":...,"token":...}`, `{"type":"played","turn":n}`,
`{"type":"dtmf","digit":"5"}`, `{"type":"hangup"}`, and audio frames.
Server to page: `{"type":"started","call_id":...}`, `{"type":"turn_end","turn":n}`,
`{"type":"interrupt"}`, `{"type":"end",...}` (see `encode_end`), and audio frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import msgspec

from application.ports.voice import AudioEncoding, AudioFormat, CallOutcome

AUDIO_FORMAT: Final = AudioFormat(AudioEncoding.LINEAR16, 16000)
MIN_FRAME_BYTES: Final = AUDIO_FORMAT.frame_bytes(20)
MAX_FRAME_BYTES: Final = AUDIO_FORMAT.frame_bytes(40)
MAX_CONTROL_CHARS: Final = 1024
DTMF_DIGITS: Final = frozenset("0123456789*#ABCD")


class _Control(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="type"):
    pass


class Start(_Control, frozen=True, tag="start"):
    """The page's first frame: the call it was admitted as, and that call's token."""

    call: str
    token: str


class Played(_Control, frozen=True, tag="played"):
    """The page's playback has passed the `turn_end` of `turn` (or flushed it)."""

    turn: int


class Dtmf(_Control, frozen=True, tag="dtmf"):
    digit: str


class Hangup(_Control, frozen=True, tag="hangup"):
    pass


class _Typed(msgspec.Struct, frozen=True):
    type: str


@dataclass(frozen=True, slots=True)
class Malformed:
    reason: str


@dataclass(frozen=True, slots=True)
class Unknown:
    type: str


@dataclass(frozen=True, slots=True)
class Audio:
    payload: bytes

    def __repr__(self) -> str:
        return f"Audio({len(self.payload)} bytes)"


PageFrame = Start | Played | Dtmf | Hangup | Audio | Malformed | Unknown

_decoder: Final[msgspec.json.Decoder[Start | Played | Dtmf | Hangup]] = msgspec.json.Decoder(
    Start | Played | Dtmf | Hangup
)
_typed: Final = msgspec.json.Decoder(_Typed)
_KNOWN: Final = frozenset({"start", "played", "dtmf", "hangup"})


def decode(frame: str | bytes) -> PageFrame:
    """One frame from the page, as a value; never raises."""
    if isinstance(frame, bytes):
        return decode_audio(frame)
    if len(frame) > MAX_CONTROL_CHARS:
        return Malformed(f"control frame of {len(frame)} characters")
    try:
        message = _decoder.decode(frame)
    except msgspec.DecodeError as error:
        try:
            kind = _typed.decode(frame).type
        except msgspec.DecodeError:
            return Malformed(str(error))
        return Malformed(str(error)) if kind in _KNOWN else Unknown(kind[:40])
    if isinstance(message, Played) and message.turn < 1:
        return Malformed(f"played turn {message.turn}")
    if isinstance(message, Dtmf) and message.digit not in DTMF_DIGITS:
        return Malformed("dtmf digit not one of 0-9 * # A-D")
    if isinstance(message, Start) and not (0 < len(message.call) <= 128 and message.token):
        return Malformed("start without a call or a token")
    return message


def decode_audio(frame: bytes) -> Audio | Malformed:
    """20 to 40 ms of whole 16-bit samples, or `Malformed`."""
    size = len(frame)
    if size % 2:
        return Malformed(f"audio frame of {size} bytes: not whole 16-bit samples")
    if not MIN_FRAME_BYTES <= size <= MAX_FRAME_BYTES:
        return Malformed(f"audio frame of {size} bytes: frames are 20 to 40 ms")
    return Audio(frame)


def encode_started(call_id: str) -> str:
    return msgspec.json.encode({"type": "started", "call_id": call_id}).decode()


def encode_turn_end(turn: int) -> str:
    return msgspec.json.encode({"type": "turn_end", "turn": turn}).decode()


INTERRUPT: Final = '{"type":"interrupt"}'


def outcome_words(outcome: CallOutcome) -> str:
    """What a phone caller would now hear and where they would go, in a sentence the page
    shows (a browser call goes nowhere: it ends either way)."""
    if outcome.transfer_to:
        goes = f"put through to the front desk ({outcome.transfer_to})"
    else:
        goes = "hung up"
    if outcome.say:
        return f'A caller hears "{outcome.say}", then is {goes}.'
    return f"The call is {goes}."


def outcome_fields(outcome: CallOutcome) -> dict[str, str | None]:
    """The outcome as the page reads it: `hang_up` or `transfer`, and the words."""
    return {
        "outcome": "transfer" if outcome.transfer_to else "hang_up",
        "say": outcome.say,
        "transfer_to": outcome.transfer_to,
        "message": outcome_words(outcome),
    }


def encode_end(outcome: CallOutcome) -> str:
    """`{"type":"end","outcome":"hang_up"|"transfer","say","transfer_to","message"}`."""
    return msgspec.json.encode({"type": "end", **outcome_fields(outcome)}).decode()


def pieces(data: bytes) -> tuple[list[bytes], bytes]:
    """`data` cut into frames of 20 to 40 ms, and the tail under 20 ms held back.

    Whole 40 ms frames first; a remainder of 40 to 60 ms is split in two halves, so
    no frame is shorter than 20 ms and audio in 25 ms chunks passes as it came."""
    frames: list[bytes] = []
    start, size = 0, len(data) - len(data) % 2
    while size - start >= MAX_FRAME_BYTES + MIN_FRAME_BYTES:
        frames.append(data[start : start + MAX_FRAME_BYTES])
        start += MAX_FRAME_BYTES
    rest = size - start
    if rest > MAX_FRAME_BYTES:
        half = (rest // 2) & ~1
        frames += [data[start : start + half], data[start + half : size]]
        start = size
    elif rest >= MIN_FRAME_BYTES:
        frames.append(data[start:size])
        start = size
    return frames, data[start:]
