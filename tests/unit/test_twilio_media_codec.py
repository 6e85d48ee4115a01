"""The Media Streams codec: every inbound event, broken input, and our outbound messages."""

from __future__ import annotations

import base64
import json

import pytest

from adapters.twilio.media_codec import (
    MAX_FRAME_CHARS,
    Connected,
    Dtmf,
    Malformed,
    Mark,
    Media,
    OutboundEncoder,
    Start,
    Stop,
    Unknown,
    decode,
    to_caller_event,
    turn_mark,
)
from application.ports.voice import CallerAudio, CallerDtmf, CallerHungUp, TurnPlayed

STREAM = "MZ" + "0" * 32
CALL = "CA" + "1" * 32
ACCOUNT = "AC" + "2" * 32


def _frame(**message: object) -> str:
    return json.dumps(message)


def _media(payload: str) -> str:
    return _frame(
        event="media",
        sequenceNumber="3",
        streamSid=STREAM,
        media={"track": "inbound", "chunk": "2", "timestamp": "40", "payload": payload},
    )


def test_connected_decodes() -> None:
    event = decode(_frame(event="connected", protocol="Call", version="1.0.0"))
    assert event == Connected(protocol="Call", version="1.0.0")


def test_start_decodes_with_its_call_stream_parameters_and_format() -> None:
    event = decode(
        _frame(
            event="start",
            sequenceNumber="1",
            streamSid=STREAM,
            start={
                "accountSid": ACCOUNT,
                "streamSid": STREAM,
                "callSid": CALL,
                "tracks": ["inbound"],
                "customParameters": {"call_token": "abc"},
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            },
        )
    )
    assert isinstance(event, Start)
    assert event.start.call_sid == CALL
    assert event.start.stream_sid == STREAM
    assert event.start.account_sid == ACCOUNT
    assert event.start.tracks == ["inbound"]
    assert event.start.custom_parameters == {"call_token": "abc"}
    assert event.start.media_format.encoding == "audio/x-mulaw"
    assert event.start.media_format.sample_rate == 8000
    assert event.start.media_format.channels == 1


def test_media_decodes_its_payload_from_base64() -> None:
    audio = bytes(range(160))
    event = decode(_media(base64.b64encode(audio).decode()))
    assert isinstance(event, Media)
    assert event.media.payload == audio
    assert (event.media.track, event.media.chunk, event.media.timestamp) == ("inbound", "2", "40")
    assert to_caller_event(event) == CallerAudio(audio)


def test_media_accepts_bytes_frames_too() -> None:
    assert isinstance(decode(_media("AAEC").encode()), Media)


def test_dtmf_becomes_a_caller_digit() -> None:
    event = decode(
        _frame(
            event="dtmf",
            streamSid=STREAM,
            sequenceNumber="5",
            dtmf={"track": "inbound_track", "digit": "7"},
        )
    )
    assert isinstance(event, Dtmf)
    assert to_caller_event(event) == CallerDtmf("7")


def test_the_echo_of_a_turns_mark_says_the_turn_was_played() -> None:
    event = decode(
        _frame(event="mark", streamSid=STREAM, sequenceNumber="9", mark={"name": turn_mark(3)})
    )
    assert isinstance(event, Mark)
    assert to_caller_event(event) == TurnPlayed(3)


@pytest.mark.parametrize("name", ["t1", "turn-", "turn-x", "turn-\u0663", "greeting-done"])
def test_a_mark_that_names_no_turn_of_ours_is_ignored(name: str) -> None:
    event = decode(_frame(event="mark", streamSid=STREAM, sequenceNumber="9", mark={"name": name}))
    assert isinstance(event, Mark)
    assert to_caller_event(event) is None


def test_stop_becomes_a_hang_up() -> None:
    event = decode(
        _frame(
            event="stop",
            streamSid=STREAM,
            sequenceNumber="10",
            stop={"accountSid": ACCOUNT, "callSid": CALL},
        )
    )
    assert isinstance(event, Stop)
    assert event.stop.call_sid == CALL
    assert to_caller_event(event) == CallerHungUp()


def test_connected_and_start_have_no_caller_event() -> None:
    assert to_caller_event(Connected()) is None


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "",
        "[]",
        '{"event": 5}',
        '{"protocol": "Call"}',
        '{"event":"media","streamSid":"MZ"}',
        '{"event":"dtmf","dtmf":{"digit":5}}',
        '{"event":"mark","mark":{}}',
        '{"event":"start","start":{"callSid":"CA"}}',
        '{"event":"start","start":{"accountSid":"a","streamSid":"s","callSid":"c",'
        '"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":"8000","channels":1}}}',
    ],
    ids=[
        "not-json",
        "empty",
        "array",
        "event-not-a-string",
        "no-event",
        "media-without-body",
        "digit-not-a-string",
        "mark-without-name",
        "start-missing-fields",
        "sample-rate-a-string",
    ],
)
def test_broken_frames_are_malformed_and_never_raise(frame: str) -> None:
    assert isinstance(decode(frame), Malformed)


@pytest.mark.parametrize("payload", ["AAE", "AA=C", "!!!!", "AAEC AA==", "AAECAw"])
def test_invalid_base64_payloads_are_malformed(payload: str) -> None:
    assert isinstance(decode(_media(payload)), Malformed)


def test_oversized_frames_are_malformed_without_being_parsed() -> None:
    frame = _media("A" * (MAX_FRAME_CHARS + 4))
    result = decode(frame)
    assert isinstance(result, Malformed)
    assert "exceeds" in result.reason


def test_unknown_events_are_told_apart_from_malformed_ones() -> None:
    assert decode('{"event":"transcription","streamSid":"MZ"}') == Unknown("transcription")


def test_media_message_is_the_documented_json_with_base64_audio() -> None:
    encoder = OutboundEncoder(STREAM)
    audio = bytes(range(160))
    message = json.loads(encoder.media(audio))
    assert message == {
        "event": "media",
        "streamSid": STREAM,
        "media": {"payload": base64.b64encode(audio).decode()},
    }


def test_mark_and_clear_messages_are_the_documented_json() -> None:
    encoder = OutboundEncoder(STREAM)
    assert json.loads(encoder.mark('say "bye"')) == {
        "event": "mark",
        "streamSid": STREAM,
        "mark": {"name": 'say "bye"'},
    }
    assert json.loads(encoder.clear()) == {"event": "clear", "streamSid": STREAM}


def test_a_stream_sid_needing_escapes_still_yields_valid_json() -> None:
    encoder = OutboundEncoder('odd"sid\\')
    assert json.loads(encoder.media(b"\x00"))["streamSid"] == 'odd"sid\\'
