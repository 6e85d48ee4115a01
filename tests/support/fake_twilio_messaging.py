"""A strict stand-in for Twilio's Messages resource (2010-04-01) on a real local port.

`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, HTTP basic auth,
answering like Twilio: 201 with a message resource, or a Twilio-shaped JSON error —
401/20003 bad credentials, 404/20404 another account, 400/21211 `To` not E.164,
400/21606 a `From` the account does not own, 400/21602 no `Body`, 400/21617 a body over
1600 characters, 400/21610 a recipient who replied STOP. Stricter than Twilio in one way:
a parameter it does not know is refused (400), so a misspelt one fails the test instead
of being ignored. `fail_next(status)` makes the next requests fail, e.g. with 500.

    with FakeTwilioMessaging(account_sid, auth_token, senders={"+14155550100"}) as sms:
        ...TwilioTextNotifier(..., base_url=sms.base_url)...
        sms.messages[0].body
"""

from __future__ import annotations

import base64
import itertools
import json
import queue
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.local_http import LocalHttpServer

_sids = itertools.count(1)
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages\.json$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_KNOWN = {"To", "From", "Body", "StatusCallback", "MessagingServiceSid"}
MAX_BODY_CHARS = 1600


@dataclass(frozen=True)
class FakeMessage:
    sid: str
    to: str
    from_: str
    body: str


@dataclass
class FakeTwilioMessaging:
    account_sid: str
    auth_token: str
    senders: set[str]
    opted_out: set[str] = field(default_factory=set)
    messages: list[FakeMessage] = field(default_factory=list)
    requests: int = 0
    _arrivals: queue.Queue[FakeMessage] = field(default_factory=queue.Queue)
    _failures: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _http: LocalHttpServer = field(default_factory=LocalHttpServer)

    @property
    def base_url(self) -> str:
        return self._http.base_url

    def fail_next(self, *statuses: int) -> None:
        with self._lock:
            self._failures.extend(statuses)

    def next_message(self, timeout_s: float = 5.0) -> FakeMessage:
        """The next message accepted; fails the test if none comes within `timeout_s`."""
        try:
            return self._arrivals.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"no text arrived within {timeout_s} s") from None

    def _take_failure(self) -> int | None:
        with self._lock:
            self.requests += 1
            return self._failures.pop(0) if self._failures else None

    def __enter__(self) -> FakeTwilioMessaging:
        fake = self

        class Handler(_Handler):
            twilio = fake

        self._http.start(Handler)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._http.stop()


def _error(status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class _Handler(BaseHTTPRequestHandler):
    twilio: FakeTwilioMessaging

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._reply(*_error(405, 20004, "Method not allowed"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        self._reply(*self._create(urlsplit(self.path).path, raw))

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _create(self, path: str, raw: str) -> tuple[int, dict[str, Any]]:
        twilio = self.twilio
        failure = twilio._take_failure()
        if failure is not None:
            return _error(failure, 20500, "Internal Server Error")
        expected = f"{twilio.account_sid}:{twilio.auth_token}".encode()
        if self.headers.get("Authorization") != "Basic " + base64.b64encode(expected).decode():
            return _error(401, 20003, "Authenticate")
        match = _MESSAGES.match(path)
        if match is None or match["account"] != twilio.account_sid:
            return _error(404, 20404, f"The requested resource {path} was not found")
        if self.headers.get("Content-Type", "").split(";")[0] != (
            "application/x-www-form-urlencoded"
        ):
            return _error(400, 20001, "Expected a form-encoded body")
        form = parse_qs(raw, keep_blank_values=True, strict_parsing=bool(raw))
        if unknown := sorted(set(form) - _KNOWN):
            return _error(400, 20001, f"Unknown parameters {unknown}")
        if any(len(values) != 1 for values in form.values()):
            return _error(400, 20001, "A parameter was given twice")
        values = {k: v[0] for k, v in form.items()}
        to, sender, body = values.get("To", ""), values.get("From", ""), values.get("Body", "")
        if not _E164.match(to):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if sender not in twilio.senders:
            return _error(400, 21606, "The 'From' phone number provided is not owned.")
        if not body.strip():
            return _error(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY_CHARS:
            return _error(400, 21617, "The concatenated message body exceeds 1600 characters.")
        if to in twilio.opted_out:
            return _error(400, 21610, "Attempt to send to unsubscribed recipient")
        message = FakeMessage(sid=f"SM{next(_sids):032x}", to=to, from_=sender, body=body)
        with twilio._lock:
            twilio.messages.append(message)
        twilio._arrivals.put(message)
        return 201, {
            "sid": message.sid,
            "account_sid": twilio.account_sid,
            "to": to,
            "from": sender,
            "body": body,
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": "Mon, 01 Dec 2025 12:00:00 +0000",
            "uri": f"{path[: -len('.json')]}/{message.sid}.json",
        }
