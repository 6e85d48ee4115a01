"""The greeting's audio made ahead: `DeepgramSpeech` against the strict fake of the speak
endpoint, kept on disk by `FileCachedSpeech`, and shared by calls through
`GreetingAudio`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.deepgram.speak import DeepgramSpeech
from adapters.file_cache import FileCachedSpeech
from application.calls.greeting_audio import GreetingAudio
from application.ports import TELEPHONE_AUDIO, AudioEncoding, AudioFormat
from application.ports.speech import SpeechUnavailable
from tests.support.fake_deepgram_speak import FakeDeepgramSpeak

KEY = "dg-speak-key-secret"
HELLO = "Hello, thank you for calling."


def files(directory: Path, pattern: str) -> int:
    return len(list(directory.glob(pattern)))


def speech_at(speak: FakeDeepgramSpeak, key: str = KEY) -> DeepgramSpeech:
    return DeepgramSpeech(speak.speak_url, key, default_voice="aura-2-thalia-en")


async def test_the_greeting_is_synthesised_as_raw_audio_in_the_calls_format() -> None:
    with FakeDeepgramSpeak(api_key=KEY) as speak:
        sound = await speech_at(speak).synthesise(HELLO, None, TELEPHONE_AUDIO)
        wide = await speech_at(speak).synthesise(
            HELLO, "aura-2-orion-en", AudioFormat(AudioEncoding.LINEAR16, 16000)
        )
    assert sound == speak.audio_for(HELLO, "mulaw", 8000)
    assert wide == speak.audio_for(HELLO, "linear16", 16000)
    assert [(r.model, r.encoding, r.sample_rate) for r in speak.requests] == [
        ("aura-2-thalia-en", "mulaw", 8000),
        ("aura-2-orion-en", "linear16", 16000),
    ]
    assert speak.refused == []


async def test_a_refused_synthesis_says_why_and_never_shows_the_key() -> None:
    with (
        FakeDeepgramSpeak(api_key="another-key") as speak,
        pytest.raises(SpeechUnavailable) as raised,
    ):
        await speech_at(speak).synthesise(HELLO, None, TELEPHONE_AUDIO)
    assert "HTTP 401" in str(raised.value)
    assert KEY not in str(raised.value)


async def test_an_unreachable_endpoint_is_speech_unavailable() -> None:
    with FakeDeepgramSpeak(api_key=KEY) as speak:
        url = speak.speak_url
    with pytest.raises(SpeechUnavailable, match="unreachable"):
        await DeepgramSpeech(url, KEY, default_voice="v").synthesise(HELLO, None, TELEPHONE_AUDIO)


async def test_speech_kept_on_disk_is_not_synthesised_again_after_a_restart(
    tmp_path: Path,
) -> None:
    with FakeDeepgramSpeak(api_key=KEY) as speak:
        first = FileCachedSpeech(speech_at(speak), tmp_path, namespace="deepgram:thalia")
        sound = await first.synthesise(HELLO, None, TELEPHONE_AUDIO)
        restarted = FileCachedSpeech(speech_at(speak), tmp_path, namespace="deepgram:thalia")
        assert await restarted.synthesise(HELLO, None, TELEPHONE_AUDIO) == sound
        assert len(speak.requests) == 1
        # another default voice is another sound
        other = FileCachedSpeech(speech_at(speak), tmp_path, namespace="deepgram:orion")
        await other.synthesise(HELLO, None, TELEPHONE_AUDIO)
        assert len(speak.requests) == 2
    assert files(tmp_path, "*.raw") == 2
    assert files(tmp_path, "*.tmp") == 0


async def test_calls_asking_at_once_share_one_synthesis_and_later_ones_need_none() -> None:
    with FakeDeepgramSpeak(api_key=KEY, delay_s=0.2) as speak:
        greetings = GreetingAudio(speech_at(speak))
        assert greetings.ready(HELLO, None, TELEPHONE_AUDIO) is None
        sounds = await asyncio.gather(
            *(greetings.get(HELLO, None, TELEPHONE_AUDIO) for _ in range(5))
        )
        assert len(set(sounds)) == 1
        assert sounds[0]
        assert greetings.ready(HELLO, None, TELEPHONE_AUDIO) == sounds[0]
        assert await greetings.get(HELLO, None, TELEPHONE_AUDIO) == sounds[0]
    assert len(speak.requests) == 1


async def test_after_a_failed_synthesis_calls_do_not_wait_on_the_endpoint_for_a_while() -> None:
    with FakeDeepgramSpeak(api_key=KEY, fail_status=500) as speak:
        greetings = GreetingAudio(speech_at(speak), retry_after_s=60)
        assert await greetings.get(HELLO, None, TELEPHONE_AUDIO) is None
        assert await greetings.get(HELLO, None, TELEPHONE_AUDIO) is None
        assert speak.attempts == 1


async def test_a_synthesis_slower_than_its_bound_gives_no_greeting_audio() -> None:
    with FakeDeepgramSpeak(api_key=KEY, delay_s=0.5) as speak:
        greetings = GreetingAudio(speech_at(speak), timeout_s=0.05)
        assert await greetings.get(HELLO, None, TELEPHONE_AUDIO) is None


async def test_without_a_synthesizer_there_is_never_greeting_audio() -> None:
    greetings = GreetingAudio(None)
    assert await greetings.get(HELLO, None, TELEPHONE_AUDIO) is None
