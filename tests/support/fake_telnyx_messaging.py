"""A strict stand-in for Telnyx's Messaging API v2 on a real local port.

`POST /v2/messages`, JSON, `Authorization: Bearer <API key>`, answering in Telnyx's shape:
200 with `{"data": {"id", "record_type": "message", ...}}`, or `{"errors": [{"code",
"title", "detail"}]}` — 401/10009 a wrong key, 400/40310 `to` not E.164, 400/40305 a
`from` not on the account, 422/10015 no `text`, 400/40300 a recipient who replied STOP.
Stricter than Telnyx in one way: a field it does not know is refused (422), so a misspelt
one fails the test. `fail_next(status)` makes the next requests fail, e.g. with 503.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any

from tests.support.local_http import LocalHttpServer

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_KNOWN = {"from", "to", "text", "messaging_profile_id", "webhook_url", "webhook_failover_url"}


@dataclass(frozen=True)
class FakeTelnyxMessage:
    id: str
    to: str
    from_: str
    text: str


@dataclass
class FakeTelnyxMessaging:
    api_key: str
    senders: set[str]
    opted_out: set[str] = field(default_factory=set)
    messages: list[FakeTelnyxMessage] = field(default_factory=list)
    requests: int = 0
    _arrivals: queue.Queue[FakeTelnyxMessage] = field(default_factory=queue.Queue)
    _failures: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _http: LocalHttpServer = field(default_factory=LocalHttpServer)

    @property
    def base_url(self) -> str:
        return self._http.base_url

    def fail_next(self, *statuses: int) -> None:
        with self._lock:
            self._failures.extend(statuses)

    def next_message(self, timeout_s: float = 5.0) -> FakeTelnyxMessage:
        """The next message accepted; fails the test if none comes within `timeout_s`."""
        try:
            return self._arrivals.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"no text arrived within {timeout_s} s") from None

    def _take_failure(self) -> int | None:
        with self._lock:
            self.requests += 1
            return self._failures.pop(0) if self._failures else None

    def __enter__(self) -> FakeTelnyxMessaging:
        fake = self

        class Handler(_Handler):
            telnyx = fake

        self._http.start(Handler)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._http.stop()


def _error(status: int, code: str, title: str, detail: str = "") -> tuple[int, dict[str, Any]]:
    return status, {"errors": [{"code": code, "title": title, "detail": detail or title}]}


class _Handler(BaseHTTPRequestHandler):
    telnyx: FakeTelnyxMessaging

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._reply(*_error(405, "10005", "Method not allowed"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._reply(*self._create(self.path, self.rfile.read(length)))

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _create(self, path: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        telnyx = self.telnyx
        failure = telnyx._take_failure()
        if failure is not None:
            return _error(failure, "10007", "Unexpected error")
        if self.headers.get("Authorization") != f"Bearer {telnyx.api_key}":
            return _error(401, "10009", "Authentication failed")
        if path != "/v2/messages":
            return _error(404, "10005", "Resource not found")
        if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
            return _error(415, "10015", "Bad Request", "Expected a JSON body")
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "10015", "Bad Request", "The body is not JSON")
        if not isinstance(body, dict):
            return _error(422, "10015", "Bad Request", "The body must be an object")
        if unknown := sorted(set(body) - _KNOWN):
            return _error(422, "10015", "Bad Request", f"Unknown fields {unknown}")
        to, sender, text = body.get("to", ""), body.get("from", ""), body.get("text", "")
        if not isinstance(to, str) or not _E164.match(to):
            return _error(400, "40310", "Invalid 'to' address")
        if sender not in telnyx.senders:
            return _error(400, "40305", "Invalid 'from' address")
        if not isinstance(text, str) or not text.strip():
            return _error(422, "10015", "Bad Request", "The 'text' field is required")
        if to in telnyx.opted_out:
            return _error(400, "40300", "Blocked due to STOP message")
        message = FakeTelnyxMessage(id=str(uuid.uuid4()), to=to, from_=sender, text=text)
        with telnyx._lock:
            telnyx.messages.append(message)
        telnyx._arrivals.put(message)
        return 200, {
            "data": {
                "record_type": "message",
                "id": message.id,
                "direction": "outbound",
                "type": "SMS",
                "from": {"phone_number": sender},
                "to": [{"phone_number": to, "status": "queued"}],
                "text": text,
                "parts": 1,
                "errors": [],
            }
        }
