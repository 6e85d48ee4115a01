"""`SpeechSynthesizer` on Deepgram's text-to-speech REST endpoint (`POST /v1/speak`).

One request per text: the body is `{"text": ...}`, the query names the voice (`model`)
and raw samples in the leg's own encoding and rate (`container=none`), so the audio
plays on a call as it comes. The API key goes in the `Authorization` header and in no
message or log line.
"""

from __future__ import annotations

import httpx

from adapters.deepgram.settings import ENCODINGS
from application.ports import AudioFormat
from application.ports.speech import SpeechUnavailable

SPEAK_URL = "https://api.deepgram.com/v1/speak"


class DeepgramSpeech:
    def __init__(
        self, url: str, api_key: str, *, default_voice: str, timeout_s: float = 10.0
    ) -> None:
        self._url = url
        self._api_key = api_key
        self._default_voice = default_voice
        self._timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"DeepgramSpeech(url={self._url!r})"

    async def synthesise(self, text: str, voice: str | None, audio: AudioFormat) -> bytes:
        params = {
            "model": voice or self._default_voice,
            "encoding": ENCODINGS[audio.encoding],
            "sample_rate": str(audio.sample_rate_hz),
            "container": "none",
        }
        headers = {"Authorization": f"Token {self._api_key}"}
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                response = await client.post(
                    self._url, params=params, json={"text": text}, headers=headers
                )
        except httpx.HTTPError as error:
            raise SpeechUnavailable(f"Deepgram speak unreachable: {type(error).__name__}") from None
        if response.status_code != 200:
            raise SpeechUnavailable(
                f"Deepgram speak refused: HTTP {response.status_code} {_error_code(response)}"
            )
        if not response.content:
            raise SpeechUnavailable("Deepgram speak answered with no audio")
        return response.content


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    code = body.get("err_code") if isinstance(body, dict) else None
    return str(code)[:80] if code else ""
