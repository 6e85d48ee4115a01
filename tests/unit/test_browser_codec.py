"""The softphone's wire format: strict decoding that never raises, and frame cutting."""

from __future__ import annotations

import json

import pytest

from adapters.browser.codec import (
    MAX_FRAME_BYTES,
    MIN_FRAME_BYTES,
    Audio,
    Dtmf,
    Hangup,
    Malformed,
    Played,
    Start,
    Unknown,
    decode,
    encode_end,
    pieces,
)
from application.ports.voice import CallOutcome
from domain.calls import NextStep


def test_each_control_frame_of_the_page_decodes_to_its_message() -> None:
    assert decode('{"type":"start","call":"web-1","token":"t"}') == Start(call="web-1", token="t")
    assert decode('{"type":"played","turn":3}') == Played(turn=3)
    assert decode('{"type":"dtmf","digit":"#"}') == Dtmf(digit="#")
    assert decode('{"type":"hangup"}') == Hangup()


def test_audio_frames_of_20_to_40_ms_of_whole_samples_are_audio() -> None:
    assert decode(bytes(MIN_FRAME_BYTES)) == Audio(bytes(MIN_FRAME_BYTES))
    assert decode(bytes(MAX_FRAME_BYTES)) == Audio(bytes(MAX_FRAME_BYTES))


@pytest.mark.parametrize(
    "frame",
    [
        "",
        "not json",
        "[]",
        '{"type":"played"}',
        '{"type":"played","turn":0}',
        '{"type":"played","turn":"1"}',
        '{"type":"hangup","why":"extra field"}',
        '{"type":"dtmf","digit":"55"}',
        '{"type":"start","call":"","token":"t"}',
        '{"type":"start","call":"c","token":""}',
        '{"type":"hangup","pad":"' + "x" * 2000 + '"}',
        b"",
        bytes(MIN_FRAME_BYTES - 2),
        bytes(MAX_FRAME_BYTES + 2),
        bytes(MIN_FRAME_BYTES + 1),
    ],
)
def test_malformed_frames_are_values_not_exceptions(frame: str | bytes) -> None:
    assert isinstance(decode(frame), Malformed)


def test_a_well_formed_frame_of_an_unknown_type_is_unknown() -> None:
    assert decode('{"type":"mute","on":true}') == Unknown("mute")


def test_audio_is_cut_into_frames_of_20_to_40_ms_and_a_short_tail_is_held() -> None:
    frames, tail = pieces(bytes(range(256)) * 20 + b"\x01")  # 5121 bytes
    assert all(MIN_FRAME_BYTES <= len(f) <= MAX_FRAME_BYTES and len(f) % 2 == 0 for f in frames)
    assert b"".join(frames) + tail == bytes(range(256)) * 20 + b"\x01"
    assert len(tail) < MIN_FRAME_BYTES


def test_25_ms_chunks_pass_as_they_came_and_50_ms_splits_in_halves() -> None:
    assert pieces(bytes(800)) == ([bytes(800)], b"")
    assert pieces(bytes(1600)) == ([bytes(800), bytes(800)], b"")
    assert pieces(bytes(300)) == ([], bytes(300))


def test_the_end_frame_says_in_words_where_a_phone_caller_would_go() -> None:
    transfer = CallOutcome(
        step=NextStep.TRANSFER, say="Connecting you now.", transfer_to="+14155550100"
    )
    end = json.loads(encode_end(transfer))
    assert end["type"] == "end"
    assert end["outcome"] == "transfer"
    assert "+14155550100" in end["message"]
    assert "Connecting you now." in end["message"]
    assert json.loads(encode_end(CallOutcome(step=NextStep.HANG_UP)))["outcome"] == "hang_up"
