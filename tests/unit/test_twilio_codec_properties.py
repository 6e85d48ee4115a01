"""Property-based: the media-stream decoder never raises, whatever arrives on the socket,
and what we encode always decodes back to what we meant."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.twilio.media_codec import (
    MAX_FRAME_CHARS,
    Malformed,
    Media,
    OutboundEncoder,
    Unknown,
    decode,
    to_caller_event,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
events = st.sampled_from(
    ["connected", "start", "media", "dtmf", "mark", "stop", "clear", "Media", ""]
)


@settings(max_examples=300)
@given(st.text(max_size=300) | st.binary(max_size=300))
def test_arbitrary_text_or_bytes_never_raise(frame: str | bytes) -> None:
    decoded = decode(frame)
    if not isinstance(decoded, Malformed | Unknown):
        to_caller_event(decoded)


@settings(max_examples=300)
@given(
    events,
    st.dictionaries(
        st.sampled_from(
            ["streamSid", "sequenceNumber", "media", "start", "mark", "dtmf", "stop", "protocol"]
        ),
        json_values,
        max_size=5,
    ),
)
def test_well_formed_json_with_wrong_shapes_is_malformed_or_unknown_never_an_error(
    event: str, fields: dict[str, object]
) -> None:
    decoded = decode(json.dumps({"event": event, **fields}))
    if event in {"connected", "start", "media", "dtmf", "mark", "stop"}:
        assert not isinstance(decoded, Unknown)
    else:
        assert isinstance(decoded, Unknown | Malformed)


@settings(max_examples=100)
@given(
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=!*", max_size=200
    )
)
def test_media_with_a_payload_that_is_not_base64_is_malformed(payload: str) -> None:
    try:
        base64.b64decode(payload, validate=True)
        valid = True
    except ValueError:
        valid = False
    frame = json.dumps(
        {
            "event": "media",
            "sequenceNumber": "3",
            "streamSid": "MZ1",
            "media": {"track": "inbound", "chunk": "1", "timestamp": "20", "payload": payload},
        }
    )
    decoded = decode(frame)
    if not valid:
        assert isinstance(decoded, Malformed)


def test_an_oversized_frame_is_refused_without_parsing() -> None:
    assert isinstance(decode("{" + " " * MAX_FRAME_CHARS + "}"), Malformed)


@settings(max_examples=200)
@given(st.binary(min_size=0, max_size=4000), st.text(min_size=1, max_size=40))
def test_outbound_media_and_marks_are_valid_json_that_round_trips(audio: bytes, name: str) -> None:
    encoder = OutboundEncoder("MZ" + "0" * 32)
    media = json.loads(encoder.media(audio))
    assert media == {
        "event": "media",
        "streamSid": "MZ" + "0" * 32,
        "media": {"payload": base64.b64encode(audio).decode()},
    }
    assert json.loads(encoder.mark(name))["mark"] == {"name": name}


@settings(max_examples=100)
@given(st.binary(min_size=1, max_size=640))
def test_inbound_media_decodes_to_the_exact_audio(audio: bytes) -> None:
    frame = json.dumps(
        {
            "event": "media",
            "sequenceNumber": "3",
            "streamSid": "MZ1",
            "media": {
                "track": "inbound",
                "chunk": "1",
                "timestamp": "20",
                "payload": base64.b64encode(audio).decode(),
            },
        }
    )
    decoded = decode(frame)
    assert isinstance(decoded, Media)
    event = to_caller_event(decoded)
    assert event is not None
    assert getattr(event, "payload", None) == audio
