"""A stand-in for Twilio's REST API (2010-04-01) on a real local port.

Speaks the part `frontdesk setup` uses: IncomingPhoneNumbers list/fetch/create/update/
delete and AvailablePhoneNumbers/US/Local search, with HTTP basic auth and Twilio-shaped
JSON errors (401/20003, 404/20404, 400/21422). Its state is plain attributes, so a test
can arrange numbers and inspect what setup changed.

    with FakeTwilioRest(account_sid, auth_token) as twilio:
        twilio.own("+14155550100")
        ...TWILIO_API_BASE_URL=twilio.base_url...
        twilio.numbers[sid].voice_url
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.local_http import LocalHttpServer

_sids = itertools.count(1)
_ACCOUNT = r"/2010-04-01/Accounts/(?P<account>AC\w+)"
_NUMBERS = re.compile(_ACCOUNT + r"/IncomingPhoneNumbers\.json$")
_NUMBER = re.compile(_ACCOUNT + r"/IncomingPhoneNumbers/(?P<sid>PN\w+)\.json$")
_LOCAL = re.compile(_ACCOUNT + r"/AvailablePhoneNumbers/(?P<country>[A-Z]{2})/Local\.json$")


@dataclass
class FakeNumber:
    sid: str
    account_sid: str
    phone_number: str
    friendly_name: str
    voice_url: str = ""
    voice_method: str = "POST"
    status_callback: str = ""
    status_callback_method: str = "POST"
    date_created: str = "Mon, 01 Dec 2025 12:00:00 +0000"

    def resource(self) -> dict[str, Any]:
        uri = f"/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers/{self.sid}.json"
        return {**asdict(self), "uri": uri, "capabilities": {"voice": True, "sms": True}}


@dataclass
class FakeTwilioRest:
    account_sid: str
    auth_token: str
    numbers: dict[str, FakeNumber] = field(default_factory=dict)
    # area code -> numbers for sale; an area code not listed has none
    for_sale: dict[str, list[str]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    _http: LocalHttpServer = field(default_factory=LocalHttpServer)

    @property
    def base_url(self) -> str:
        return self._http.base_url

    def own(self, phone_number: str, friendly_name: str = "") -> FakeNumber:
        number = FakeNumber(
            sid=f"PN{next(_sids):032x}",
            account_sid=self.account_sid,
            phone_number=phone_number,
            friendly_name=friendly_name or phone_number,
        )
        self.numbers[number.sid] = number
        return number

    def by_phone(self, phone_number: str) -> FakeNumber:
        return next(n for n in self.numbers.values() if n.phone_number == phone_number)

    def __enter__(self) -> FakeTwilioRest:
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


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class _Handler(BaseHTTPRequestHandler):
    twilio: FakeTwilioRest

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _reply(self, status: int, body: dict[str, Any] | None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        expected = f"{self.twilio.account_sid}:{self.twilio.auth_token}".encode()
        header = self.headers.get("Authorization", "")
        return header == "Basic " + base64.b64encode(expected).decode()

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        self.twilio.requests.append((method, url.path))
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode(), True).items()}
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if not self._authorised():
            self._reply(401, _error(401, 20003, "Authenticate"))
            return
        status, body = self._route(method, url.path, query, form)
        self._reply(status, body)

    def _route(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str]
    ) -> tuple[int, dict[str, Any] | None]:
        twilio = self.twilio
        not_found = 404, _error(404, 20404, f"The requested resource {path} was not found")
        match = _NUMBERS.match(path) or _NUMBER.match(path) or _LOCAL.match(path)
        if match is None or match["account"] != twilio.account_sid:
            return not_found
        if match.re is _NUMBERS and method == "GET":
            records = [n.resource() for n in twilio.numbers.values()]
            return 200, _page("incoming_phone_numbers", records, path)
        if match.re is _NUMBERS and method == "POST":
            wanted = form.get("PhoneNumber", "")
            sale = [code for code, numbers in twilio.for_sale.items() if wanted in numbers]
            if not sale:
                return 400, _error(400, 21422, f"PhoneNumber {wanted} is not available")
            twilio.for_sale[sale[0]].remove(wanted)
            return 201, twilio.own(wanted, form.get("FriendlyName", "")).resource()
        if match.re is _LOCAL:
            area = query.get("AreaCode", "")
            records = [
                {"phone_number": n, "friendly_name": n, "locality": "", "region": "CA"}
                for n in twilio.for_sale.get(area, [])
            ]
            return 200, _page("available_phone_numbers", records, path)
        number = twilio.numbers.get(match["sid"])
        if number is None:
            return not_found
        if method == "DELETE":
            del twilio.numbers[number.sid]
            return 204, None
        if method == "POST":
            fields = {"VoiceUrl": "voice_url", "VoiceMethod": "voice_method"}
            fields |= {"StatusCallback": "status_callback"}
            fields |= {"StatusCallbackMethod": "status_callback_method"}
            for name, attribute in fields.items():
                if name in form:
                    setattr(number, attribute, form[name])
        return 200, number.resource()


def _page(key: str, records: list[dict[str, Any]], path: str) -> dict[str, Any]:
    return {
        key: records,
        "page": 0,
        "page_size": 50,
        "start": 0,
        "end": max(len(records) - 1, 0),
        "uri": path,
        "first_page_uri": path,
        "next_page_uri": None,
        "previous_page_uri": None,
    }
