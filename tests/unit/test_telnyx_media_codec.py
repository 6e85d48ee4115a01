"""Telnyx media-stream frames decode to typed events (or Malformed/Unknown, never raising)."""

from __future__ import annotations

import base64
import json

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.telnyx.media_codec import (
    CLEAR,
    Connected,
    Dtmf,
    Error,
    Malformed,
    Mark,
    Media,
    MediaFormat,
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
from application.ports.voice import AudioEncoding, AudioFormat

START = {
    "event": "start",
    "sequence_number": "1",
    "start": {
        "user_id": "3E6F995F-85F7-4705-9741-53B116D28237",
        "call_control_id": "v3:T02llQxIyaRkhfRKxgAP8nY511EhFLizdvdUKJiSw8d6A9BborherQ",
        "call_session_id": "ff55a038-6f5d-11ef-9692-02420aeffb1f",
        "from": "+13122010094",
        "to": "+13122123456",
        "tags": ["TAG1"],
        "client_state": "aGF2ZSBhIG5pY2UgZGF5ID1d",
        "custom_parameters": {"k": "v"},
        "media_format": {"encoding": "PCMU", "sample_rate": 8000, "channels": 1},
    },
    "stream_id": "32DE0DEA-53CB-4B21-89A4-9E1819C043BC",
}


def _frame(message: object) -> str:
    return json.dumps(message)


def test_connected_decodes() -> None:
    assert decode('{"event":"connected","version":"1.0.0"}') == Connected(version="1.0.0")


def test_start_decodes_with_the_call_and_its_media_format() -> None:
    event = decode(_frame(START))
    assert isinstance(event, Start)
    assert event.start.call_control_id.startswith("v3:")
    assert (event.start.from_number, event.start.to_number) == ("+13122010094", "+13122123456")
    assert event.start.parameters() == {"k": "v"}
    assert event.stream_id == START["stream_id"]
    assert sequence_of(event) == 1


def test_custom_parameters_may_come_as_a_list_of_names_and_values() -> None:
    message = json.loads(_frame(START))
    message["start"]["custom_parameters"] = [{"name": "k", "value": "v"}]
    event = decode(_frame(message))
    assert isinstance(event, Start)
    assert event.start.parameters() == {"k": "v"}


def test_media_decodes_its_payload_from_base64() -> None:
    frame = _frame(
        {
            "event": "media",
            "sequence_number": "4",
            "media": {"track": "inbound", "chunk": "2", "timestamp": "5", "payload": "AAEC"},
            "stream_id": "s",
        }
    )
    event = decode(frame)
    assert isinstance(event, Media)
    assert event.media.payload == b"\x00\x01\x02"
    assert sequence_of(event) == 4
    assert "3 bytes" in repr(event.media)


def test_dtmf_mark_error_and_stop_decode() -> None:
    dtmf = decode('{"event":"dtmf","sequence_number":"5","dtmf":{"digit":"1"},"occurred_at":"x"}')
    assert isinstance(dtmf, Dtmf)
    assert dtmf.dtmf.digit == "1"
    mark = decode('{"event":"mark","stream_id":"s","sequence_number":"6","mark":{"name":"turn-3"}}')
    assert isinstance(mark, Mark)
    assert turn_of_mark(mark.mark.name) == 3
    error = decode(
        '{"event":"error","payload":{"code":100003,"title":"malformed_frame","detail":"d"}}'
    )
    assert isinstance(error, Error)
    assert error.payload.code == 100003
    stop = decode('{"event":"stop","sequence_number":"7","stop":{"call_control_id":"v3:x"}}')
    assert isinstance(stop, Stop)
    assert sequence_of(stop) == 7


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        '{"event":"media","sequence_number":"4","media":{"payload":"@@@"}}',
        '{"event":"media","media":{"payload":"AAEC"}}',
        '{"event":"media","sequence_number":"four","media":{"payload":"AAEC"}}',
        '{"event":"media","sequence_number":"","media":{"payload":"AAEC"}}',
        '{"event":"dtmf","sequence_number":"-1","dtmf":{"digit":"1"}}',
        '{"event":"start","start":{"media_format":{"encoding":"PCMU","sample_rate":8000}}}',
        '{"event":"mark","mark":{}}',
        '{"no_event":1}',
        '{"event":"media","sequence_number":"1","media":{"payload":"' + "A" * 70_000 + '"}}',
    ],
)
def test_broken_frames_are_malformed(frame: str) -> None:
    assert isinstance(decode(frame), Malformed)


def test_an_event_we_do_not_know_is_unknown() -> None:
    assert decode('{"event":"transcription","text":"hi"}') == Unknown("transcription")


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("PCMU", AudioEncoding.PCMU),
        ("audio/x-mulaw", AudioEncoding.PCMU),
        ("PCMA", AudioEncoding.PCMA),
        ("audio/x-alaw", AudioEncoding.PCMA),
    ],
)
def test_g711_at_8_khz_passes_through(encoding: str, expected: AudioEncoding) -> None:
    assert audio_format_of(MediaFormat(encoding, 8000, 1)) == AudioFormat(expected, 8000)


@pytest.mark.parametrize(
    "media_format",
    [
        MediaFormat("L16", 16000, 1),
        MediaFormat("G722", 16000, 1),
        MediaFormat("OPUS", 16000, 1),
        MediaFormat("AMR-WB", 16000, 1),
        MediaFormat("PCMU", 16000, 1),
        MediaFormat("PCMU", 8000, 2),
    ],
)
def test_audio_we_cannot_pass_through_unchanged_is_refused(media_format: MediaFormat) -> None:
    with pytest.raises(UnsupportedFormat, match="PCMU or PCMA, 8000 Hz, mono"):
        audio_format_of(media_format)


def test_outbound_messages_carry_no_stream_id() -> None:
    assert json.loads(encode_media(b"\x01\x02")) == {
        "event": "media",
        "media": {"payload": base64.b64encode(b"\x01\x02").decode()},
    }
    assert json.loads(encode_mark('a "b"')) == {"event": "mark", "mark": {"name": 'a "b"'}}
    assert json.loads(CLEAR) == {"event": "clear"}


def test_only_our_turn_marks_name_a_turn() -> None:
    assert turn_of_mark(turn_mark(12)) == 12
    for name in ("turn-", "turn-x", "turn-\u0661", "other-3"):
        assert turn_of_mark(name) is None


@given(payload=st.binary(max_size=2000), sequence=st.integers(0, 10**12))
def test_a_media_frame_round_trips(payload: bytes, sequence: int) -> None:
    frame = msgspec.json.encode(
        {
            "event": "media",
            "sequence_number": str(sequence),
            "media": {"track": "inbound", "payload": base64.b64encode(payload).decode()},
        }
    )
    event = decode(frame)
    assert isinstance(event, Media)
    assert (event.media.payload, sequence_of(event)) == (payload, sequence)


@given(st.text(max_size=200))
def test_decode_never_raises(text: str) -> None:
    assert decode(text) is not None
