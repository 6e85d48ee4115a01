"""The dev client's pure parts: audio conversions, Twilio's playout queue, TwiML, messages."""

from __future__ import annotations

import array
import asyncio
import itertools
import math
import re
import sys
import wave
from pathlib import Path

import pytest

from adapters.twilio import media_codec as wire
from entrypoints.dev_client.audio import (
    UnsupportedWav,
    mulaw_decode,
    mulaw_encode,
    pcm_to_int16,
    read_wav,
    resample,
    to_mono,
    wav_to_mulaw,
    write_conversation,
)
from entrypoints.dev_client.client import DevCallOptions, DevClientError
from entrypoints.dev_client.command import dev_call
from entrypoints.dev_client.playback import SILENCE_FRAME, PlaybackQueue
from entrypoints.dev_client.stream_messages import TwilioMessages, new_sid
from entrypoints.dev_client.twiml import parse


def write_sine(
    path: Path, *, rate_hz: int, channels: int, freq_hz: float, seconds: float, width: int = 2
) -> None:
    count = int(rate_hz * seconds)
    samples = [round(12000 * math.sin(2 * math.pi * freq_hz * i / rate_hz)) for i in range(count)]
    interleaved = [s for s in samples for _ in range(channels)]
    if width == 2:
        raw = array.array("h", interleaved).tobytes()
    elif width == 1:
        raw = bytes((s >> 8) + 128 for s in interleaved)
    elif width == 3:
        raw = b"".join((s << 8).to_bytes(4, "little", signed=True)[:3] for s in interleaved)
    else:
        raw = array.array("i", [s << 16 for s in interleaved]).tobytes()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate_hz)
        wav.writeframes(raw)


def zero_crossings(samples: list[int]) -> int:
    return sum(1 for a, b in itertools.pairwise(samples) if (a < 0) != (b < 0))


def test_mulaw_round_trip_stays_within_one_quantisation_step() -> None:
    samples = list(range(-32000, 32000, 97))
    decoded = mulaw_decode(mulaw_encode(samples))
    for original, back in zip(samples, decoded, strict=True):
        assert abs(original - back) <= max(8, abs(original) // 16)


def test_mulaw_silence_is_0xff_and_decoding_every_byte_round_trips() -> None:
    assert mulaw_encode([0]) == b"\xff"
    every = bytes(range(256))
    assert mulaw_encode(mulaw_decode(every)) == every.replace(b"\x7f", b"\xff")


def test_a_44_1_khz_stereo_sine_becomes_8_khz_mu_law_of_the_same_length_and_pitch(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tone.wav"
    write_sine(path, rate_hz=44100, channels=2, freq_hz=440, seconds=1.0)
    audio = wav_to_mulaw(path)
    assert abs(len(audio) - 8000) <= 1
    crossings = zero_crossings(mulaw_decode(audio))
    assert 860 <= crossings <= 900  # 440 Hz crosses zero 880 times a second


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_every_pcm_width_reads_as_the_same_16_bit_tone(tmp_path: Path, width: int) -> None:
    path = tmp_path / f"tone{width}.wav"
    write_sine(path, rate_hz=8000, channels=1, freq_hz=200, seconds=0.1, width=width)
    samples, rate_hz = read_wav(path)
    assert rate_hz == 8000
    assert len(samples) == 800
    assert max(samples) == pytest.approx(12000, abs=300)


def test_channels_are_averaged_into_mono() -> None:
    assert to_mono([100, 300, -50, 50], 2) == [200, 0]
    assert to_mono([1, 2, 3], 1) == [1, 2, 3]


def test_upsampling_interpolates_between_neighbours() -> None:
    assert resample([0, 100], 4000, 8000) == [0, 50, 100, 100]


def test_odd_sample_widths_and_non_wav_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedWav):
        pcm_to_int16(b"\0" * 10, 5)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not a wav file at all")
    with pytest.raises(UnsupportedWav):
        read_wav(junk)


def test_a_conversation_is_written_as_aligned_stereo_caller_left_agent_right(
    tmp_path: Path,
) -> None:
    path = tmp_path / "call.wav"
    caller = mulaw_encode([8000] * 100)
    agent = mulaw_encode([-8000] * 60)
    write_conversation(path, caller, agent)
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, 8000)
        frames = array.array("h", wav.readframes(wav.getnframes()))
    left, right = list(frames[0::2]), list(frames[1::2])
    assert len(left) == len(right) == 100
    assert all(abs(s - 8000) < 300 for s in left)
    assert all(abs(s + 8000) < 300 for s in right[:60])
    assert set(right[60:]) == {0}


def test_a_mark_comes_back_only_once_the_audio_before_it_has_played() -> None:
    queue = PlaybackQueue()
    queue.add(b"\x11" * 200)
    queue.add_mark("turn-1")
    assert queue.take(160) == b"\x11" * 160
    assert queue.due_marks() == []
    assert queue.take(160) == b"\x11" * 40 + SILENCE_FRAME[:120]
    assert queue.due_marks() == ["turn-1"]
    assert queue.due_marks() == []


def test_clear_drops_queued_audio_at_once_and_releases_pending_marks() -> None:
    queue = PlaybackQueue()
    queue.add(b"\x11" * 1600)
    queue.add_mark("turn-1")
    queue.take(160)
    assert queue.clear() == ["turn-1"]
    assert queue.cleared_bytes == 1440
    assert queue.take(160) == SILENCE_FRAME
    queue.add(b"\x22" * 160)
    queue.add_mark("turn-2")
    assert queue.take(160) == b"\x22" * 160
    assert queue.due_marks() == ["turn-2"]


def test_the_connect_reply_yields_the_stream_url_action_and_parameters() -> None:
    reply = parse(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Connect action="https://x/after">'
        '<Stream url="wss://x/twilio/media"><Parameter name="token" value="t1"/></Stream>'
        "</Connect></Response>"
    )
    assert (reply.stream_url, reply.connect_action) == ("wss://x/twilio/media", "https://x/after")
    assert reply.stream_parameters == {"token": "t1"}
    dial = parse("<Response><Say>Connecting you.</Say><Dial>+14155550100</Dial></Response>")
    assert dial.describe() == 'says "Connecting you.", transfer to +14155550100'
    assert parse("<Response><Hangup/></Response>").describe() == "hang up"


def test_the_clients_messages_read_as_twilios_to_the_servers_codec() -> None:
    messages = TwilioMessages(
        account_sid=new_sid("AC"), call_sid=new_sid("CA"), stream_sid=new_sid("MZ")
    )
    assert re.fullmatch(r"CA[0-9a-f]{32}", messages.call_sid)
    connected = wire.decode(messages.connected())
    start = wire.decode(messages.start({"token": "t1"}))
    media = wire.decode(messages.media(b"\x7f" * 160))
    mark = wire.decode(messages.mark("turn-1"))
    stop = wire.decode(messages.stop())
    assert isinstance(connected, wire.Connected)
    assert isinstance(start, wire.Start)
    assert start.start.custom_parameters == {"token": "t1"}
    assert start.start.media_format == wire.MediaFormat("audio/x-mulaw", 8000, 1)
    assert isinstance(media, wire.Media)
    assert media.media.payload == b"\x7f" * 160
    assert (media.sequence_number, media.media.chunk) == ("2", "1")
    assert isinstance(mark, wire.Mark)
    assert mark.mark.name == "turn-1"
    assert isinstance(stop, wire.Stop)
    assert stop.stop.call_sid == messages.call_sid


def microphone_failure(options: DevCallOptions) -> str:
    with pytest.raises(DevClientError) as failure:
        asyncio.run(dev_call(options, wav=None, record=None))
    return str(failure.value)


NOWHERE = DevCallOptions(server_url="http://127.0.0.1:9")


def test_without_audio_support_the_microphone_error_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # as when it is not installed
    assert microphone_failure(NOWHERE) == (
        "no microphone or speakers: audio support is not installed -> install it with "
        "`uv sync --extra audio`, or speak a file instead: frontdesk dev-client --wav FILE"
    )


def test_without_portaudio_the_microphone_error_names_the_library_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # sounddevice itself raises OSError on import when it cannot load PortAudio.
    (tmp_path / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    message = microphone_failure(NOWHERE)
    assert message.startswith("no microphone or speakers: the PortAudio library is missing")
    assert "apt install libportaudio2" in message
    assert message.endswith("or speak a file instead: frontdesk dev-client --wav FILE")


def test_a_microphone_that_cannot_be_opened_is_named_with_what_to_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class NoDevice:
        """sounddevice on a machine with no default input device."""

        class PortAudioError(Exception):
            pass

        def RawInputStream(self, **_: object) -> None:
            raise self.PortAudioError("Error querying device -1")

    monkeypatch.setitem(sys.modules, "sounddevice", NoDevice())
    assert microphone_failure(NOWHERE) == (
        "cannot open the default microphone or speakers (Error querying device -1) -> check "
        "that they are connected and this terminal may use them, or speak a file instead: "
        "frontdesk dev-client --wav FILE"
    )
