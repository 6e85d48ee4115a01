"""A strict stand-in for Deepgram's text-to-speech REST endpoint on a real local port.

    POST /v1/speak?model=aura-2-thalia-en&encoding=mulaw&sample_rate=8000&container=none
    Authorization: Token <key>
    Content-Type: application/json
    {"text": "Hello"}

What it enforces, like the service: the `Token` key (else 401); only `model`,
`encoding` (mulaw, alaw, linear16), `sample_rate` and `container` as query parameters,
each once, with `container=none` (raw samples, as a call plays them); a JSON body that
is exactly `{"text": <non-empty string>}` (else 400 with Deepgram's error shape). The
answer is raw audio, `AUDIO_S_PER_CHAR` seconds a character, every byte `fill`.

    with FakeDeepgramSpeak(api_key="k") as speak:
        ...DEEPGRAM_SPEAK_URL=speak.base_url + "/v1/speak"...
        speak.requests[0].text

`fail_status` makes every request fail with that status; `delay_s` delays every answer.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.local_http import LocalHttpServer

ENCODINGS = {"mulaw": 1, "alaw": 1, "linear16": 2}
SAMPLE_RATES = {8000, 16000, 24000, 32000, 48000}
AUDIO_S_PER_CHAR = 0.05
MAX_TEXT = 2000


@dataclass(frozen=True)
class SpeakRequest:
    model: str
    encoding: str
    sample_rate: int
    text: str


@dataclass
class FakeDeepgramSpeak:
    api_key: str
    fill: int = 0x55
    delay_s: float = 0.0
    fail_status: int | None = None
    attempts: int = 0
    """Every request that reached the endpoint, answered or not."""
    requests: list[SpeakRequest] = field(default_factory=list)
    """The requests answered with audio."""
    refused: list[str] = field(default_factory=list)
    """Why each refused request was refused (a 4xx), in order."""
    _http: LocalHttpServer = field(default_factory=LocalHttpServer)

    @property
    def base_url(self) -> str:
        return self._http.base_url

    @property
    def speak_url(self) -> str:
        return self.base_url + "/v1/speak"

    def audio_for(self, text: str, encoding: str, sample_rate: int) -> bytes:
        n = round(len(text) * AUDIO_S_PER_CHAR * sample_rate) * ENCODINGS[encoding]
        return bytes([self.fill]) * n

    def __enter__(self) -> FakeDeepgramSpeak:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                fake._error(self, 405, "METHOD_NOT_ALLOWED", "use POST")

        self._http.start(Handler)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._http.stop()

    # --- one request ---------------------------------------------------------------

    def _error(self, h: BaseHTTPRequestHandler, status: int, code: str, message: str) -> None:
        if 400 <= status < 500:
            self.refused.append(message)
        body = json.dumps({"err_code": code, "err_msg": message, "request_id": "fake"}).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        self.attempts += 1
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        if self.delay_s:
            time.sleep(self.delay_s)
        url = urlsplit(h.path)
        if url.path != "/v1/speak":
            return self._error(h, 404, "NOT_FOUND", f"no such path {url.path}")
        if h.headers.get("Authorization") != f"Token {self.api_key}":
            return self._error(h, 401, "INVALID_AUTH", "Invalid credentials.")
        query = parse_qs(url.query, keep_blank_values=True)
        problem = _query_problem(query)
        if problem is not None:
            return self._error(h, 400, "INVALID_QUERY_PARAMETER", problem)
        if h.headers.get("Content-Type", "").split(";")[0] != "application/json":
            return self._error(h, 400, "UNSUPPORTED_CONTENT_TYPE", "send application/json")
        try:
            body = json.loads(raw)
        except ValueError:
            return self._error(h, 400, "INVALID_JSON", "the body is not JSON")
        text = body.get("text") if isinstance(body, dict) else None
        if set(body if isinstance(body, dict) else ()) != {"text"} or not isinstance(text, str):
            return self._error(h, 400, "INVALID_BODY", 'the body must be {"text": "..."}')
        if not text.strip() or len(text) > MAX_TEXT:
            return self._error(h, 400, "INVALID_TEXT", f"text must be 1..{MAX_TEXT} characters")
        if self.fail_status is not None:
            return self._error(h, self.fail_status, "FAILED", "the fake was told to fail")
        encoding, rate = query["encoding"][0], int(query["sample_rate"][0])
        self.requests.append(SpeakRequest(query["model"][0], encoding, rate, text))
        audio = self.audio_for(text, encoding, rate)
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Content-Length", str(len(audio)))
        h.end_headers()
        h.wfile.write(audio)


def _query_problem(query: dict[str, list[str]]) -> str | None:
    unknown = set(query) - {"model", "encoding", "sample_rate", "container"}
    if unknown:
        return f"unknown query parameter {sorted(unknown)[0]!r}"
    for name in ("model", "encoding", "sample_rate", "container"):
        if len(query.get(name, [])) != 1:
            return f"{name} must be given once"
    if not query["model"][0]:
        return "model is empty"
    if query["encoding"][0] not in ENCODINGS:
        return f"unsupported encoding {query['encoding'][0]!r}"
    if not query["sample_rate"][0].isdigit() or int(query["sample_rate"][0]) not in SAMPLE_RATES:
        return f"unsupported sample_rate {query['sample_rate'][0]!r}"
    if query["container"][0] != "none":
        return "this fake serves raw audio only: container=none"
    return None
