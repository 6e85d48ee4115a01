"""Each telephony adapter as the conformance suite drives it: how a call rings, how
its media stream is opened (genuine, forged, with a wrong or missing token), what the
carrier asks once the stream has closed, and how it reports the call completed.

Adding a carrier to the suite means adding a `Carrier` here and its name to
`CARRIERS`: every scenario in `test_conformance.py` then runs against it too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import msgspec
from tests.support import browser_softphone as browser
from tests.support import telnyx_simulator as telnyx
from tests.support import twilio_simulator as twilio
from tests.support.console_browser import STAFF_EMAIL, STAFF_PASSWORD, add_staff

from adapters.sql import Database

TWILIO_TOKEN = "tw-test"
TELNYX_KEYS = telnyx.TelnyxKeys()


@dataclass(frozen=True)
class Reply:
    """A carrier's call-language answer, in the terms the suite checks."""

    verbs: tuple[str, ...]
    says: tuple[str, ...]
    dial_number: str | None
    stream_url: str | None
    raw: Any


class Stream(Protocol):
    """What the suite uses of a simulated media stream (both simulators have it)."""

    audio: bytearray
    received: list[Any]
    marks_received: list[str]
    marks_echoed: list[tuple[str, float]]
    cleared_audio_bytes: int

    async def connect(self, *, send_start: bool = True) -> None: ...
    async def close(self) -> None: ...
    async def send_audio(self, audio: bytes, *, realtime: bool | None = None) -> None: ...
    async def send_dtmf(self, digit: str) -> None: ...
    async def send_stop(self, *, then_close: bool = True) -> None: ...
    async def wait_for_audio(self, n_bytes: int, timeout_s: float = 5.0) -> None: ...
    async def wait_closed(self, timeout_s: float = 5.0) -> None: ...
    def assert_no_violations(self) -> None: ...


class Carrier(Protocol):
    name: str
    settings: Mapping[str, Any]
    """What the server needs to accept this carrier's calls."""
    interrupt_event: str
    """The name, in `Stream.received`, of the message that flushes queued audio."""

    async def prepare(self, database_url: str) -> None:
        """Whatever must exist before a call can ring (the softphone's staff account)."""
        ...

    def new_call(self, from_number: str) -> Any: ...
    def reference(self, call: Any) -> str: ...
    async def ring(self, api: httpx.AsyncClient, base_url: str, call: Any) -> httpx.Response: ...
    async def ring_forged(
        self, api: httpx.AsyncClient, base_url: str, call: Any
    ) -> httpx.Response: ...
    def parse(self, text: str) -> Reply: ...
    def stream(self, call: Any, reply: Reply, *, token: str | None = None) -> Stream: ...
    def forged_stream(self, call: Any, reply: Reply) -> Stream: ...
    async def after_stream(self, api: httpx.AsyncClient, base_url: str, call: Any) -> Reply: ...
    async def completed(self, api: httpx.AsyncClient, base_url: str, call: Any) -> None: ...


class TwilioCarrier:
    name = "twilio"
    settings: Mapping[str, Any] = {}
    interrupt_event = "clear"

    async def prepare(self, database_url: str) -> None:
        return None

    def new_call(self, from_number: str) -> twilio.CallIdentity:
        return twilio.new_call(from_number=from_number)

    def reference(self, call: twilio.CallIdentity) -> str:
        return call.call_sid

    async def ring(
        self, api: httpx.AsyncClient, base_url: str, call: twilio.CallIdentity
    ) -> httpx.Response:
        return await twilio.post_voice_webhook(api, f"{base_url}/twilio/voice", TWILIO_TOKEN, call)

    async def ring_forged(
        self, api: httpx.AsyncClient, base_url: str, call: twilio.CallIdentity
    ) -> httpx.Response:
        return await twilio.post_voice_webhook(api, f"{base_url}/twilio/voice", "not-it", call)

    def parse(self, text: str) -> Reply:
        r = twilio.parse_twiml(text)
        return Reply(r.verbs, r.says, r.dial_number, r.stream_url, r)

    def stream(
        self, call: twilio.CallIdentity, reply: Reply, *, token: str | None = None
    ) -> Stream:
        parameters = dict(reply.raw.stream_parameters)
        if token is not None:
            parameters["token"] = token
        assert reply.stream_url is not None
        return twilio.SimulatedCall(
            reply.stream_url, auth_token=TWILIO_TOKEN, custom_parameters=parameters, call=call
        )

    def forged_stream(self, call: twilio.CallIdentity, reply: Reply) -> Stream:
        assert reply.stream_url is not None
        return twilio.SimulatedCall(
            reply.stream_url,
            auth_token=TWILIO_TOKEN,
            custom_parameters=dict(reply.raw.stream_parameters),
            call=call,
            signature="Zm9yZ2VkIHNpZ25hdHVyZQ==",
        )

    async def after_stream(
        self, api: httpx.AsyncClient, base_url: str, call: twilio.CallIdentity
    ) -> Reply:
        url = f"{base_url}/twilio/after-stream"
        response = await twilio.post_signed(
            api, url, twilio.call_params(call, "in-progress"), TWILIO_TOKEN
        )
        assert response.status_code == 200, response.text
        return self.parse(response.text)

    async def completed(
        self, api: httpx.AsyncClient, base_url: str, call: twilio.CallIdentity
    ) -> None:
        response = await twilio.post_status_callback(
            api,
            f"{base_url}/twilio/status",
            TWILIO_TOKEN,
            call,
            call_status="completed",
            duration_s=12,
        )
        assert response.status_code == 204, response.text


class TelnyxCarrier:
    name = "telnyx"
    settings: Mapping[str, Any] = {"telnyx_public_key": TELNYX_KEYS.public_key_b64}
    interrupt_event = "clear"

    async def prepare(self, database_url: str) -> None:
        return None

    def new_call(self, from_number: str) -> telnyx.CallIdentity:
        return telnyx.new_call(from_number=from_number)

    def reference(self, call: telnyx.CallIdentity) -> str:
        return call.call_sid

    async def ring(
        self, api: httpx.AsyncClient, base_url: str, call: telnyx.CallIdentity
    ) -> httpx.Response:
        return await telnyx.post_voice_webhook(api, f"{base_url}/telnyx/voice", TELNYX_KEYS, call)

    async def ring_forged(
        self, api: httpx.AsyncClient, base_url: str, call: telnyx.CallIdentity
    ) -> httpx.Response:
        return await telnyx.post_voice_webhook(
            api, f"{base_url}/telnyx/voice", telnyx.TelnyxKeys(), call
        )

    def parse(self, text: str) -> Reply:
        r = telnyx.parse_texml(text)
        return Reply(r.verbs, r.says, r.dial_number, r.stream_url, r)

    def stream(
        self, call: telnyx.CallIdentity, reply: Reply, *, token: str | None = None
    ) -> Stream:
        assert reply.stream_url is not None
        url = reply.stream_url
        if token is not None:
            parts = urlsplit(url)
            query = dict(parse_qsl(parts.query))
            query["token"] = token
            url = parts._replace(query=urlencode(query)).geturl()
        return telnyx.SimulatedCall(url, call=call)

    def forged_stream(self, call: telnyx.CallIdentity, reply: Reply) -> Stream:
        """Telnyx signs no handshake: a stream that names no call and token is the forgery."""
        assert reply.stream_url is not None
        bare = urlsplit(reply.stream_url)._replace(query="").geturl()
        return telnyx.SimulatedCall(bare, call=call)

    async def after_stream(
        self, api: httpx.AsyncClient, base_url: str, call: telnyx.CallIdentity
    ) -> Reply:
        response = await telnyx.post_after_stream(
            api, f"{base_url}/telnyx/after-stream", TELNYX_KEYS, call
        )
        assert response.status_code == 200, response.text
        return self.parse(response.text)

    async def completed(
        self, api: httpx.AsyncClient, base_url: str, call: telnyx.CallIdentity
    ) -> None:
        response = await telnyx.post_status_callback(
            api,
            f"{base_url}/telnyx/status",
            TELNYX_KEYS,
            call,
            call_status="completed",
            duration_s=12,
        )
        assert response.status_code == 204, response.text


@dataclass
class BrowserCall:
    """One try-out from the console: the signed-in browser, and once it has rung, the
    call's reference and its socket (whose `end` frame says what follows)."""

    from_number: str
    user: browser.SoftphoneUser | None = None
    carrier_call_id: str = ""
    stream: browser.SimulatedSoftphone | None = None


class BrowserCarrier:
    """The console's softphone. It has no webhooks: `ring` is the signed-in page's POST
    (session cookie and CSRF header), a forged ring is that POST with a forged CSRF
    token, the stream token is the one-time token the POST returned (good only on a
    socket of the same session), a forged stream is a socket with no session, and what
    follows the stream is the `end` frame it received. The server records the call
    completed itself, once the page's socket is done."""

    name = "browser"
    settings: Mapping[str, Any] = {}
    interrupt_event = "interrupt"

    async def prepare(self, database_url: str) -> None:
        database = Database.from_url(database_url)
        try:
            await add_staff(database)
        finally:
            await database.dispose()

    def new_call(self, from_number: str) -> BrowserCall:
        return BrowserCall(from_number)

    def reference(self, call: BrowserCall) -> str:
        return call.carrier_call_id

    async def _signed_in(self, base_url: str, call: BrowserCall) -> browser.SoftphoneUser:
        user = browser.SoftphoneUser(base_url)
        await user.sign_in(STAFF_EMAIL, STAFF_PASSWORD)
        call.user = user
        return user

    async def ring(
        self, api: httpx.AsyncClient, base_url: str, call: BrowserCall
    ) -> httpx.Response:
        response = await (await self._signed_in(base_url, call)).place()
        if response.status_code == 200 and response.json().get("status") == "admitted":
            call.carrier_call_id = response.json()["call"]
        return response

    async def ring_forged(
        self, api: httpx.AsyncClient, base_url: str, call: BrowserCall
    ) -> httpx.Response:
        return await (await self._signed_in(base_url, call)).place(csrf_token="forged")

    def parse(self, text: str) -> Reply:
        body = json.loads(text)
        if body["status"] == "admitted":
            return Reply(("Connect",), (), None, body["media_path"], body)
        return _end_reply(body)

    def _media_url(self, call: BrowserCall, reply: Reply) -> str:
        assert call.user is not None
        assert reply.stream_url is not None
        return call.user.media_url(reply.stream_url)

    def stream(self, call: BrowserCall, reply: Reply, *, token: str | None = None) -> Stream:
        sim = browser.SimulatedSoftphone(
            self._media_url(call, reply),
            user=call.user,
            call=reply.raw["call"],
            token=reply.raw["token"] if token is None else token,
        )
        call.stream = sim
        return sim

    def forged_stream(self, call: BrowserCall, reply: Reply) -> Stream:
        return browser.SimulatedSoftphone(
            self._media_url(call, reply),
            user=None,
            call=reply.raw["call"],
            token=reply.raw["token"],
        )

    async def after_stream(self, api: httpx.AsyncClient, base_url: str, call: BrowserCall) -> Reply:
        assert call.stream is not None
        assert call.stream.end is not None, "no end frame came"
        return _end_reply(msgspec.structs.asdict(call.stream.end))

    async def completed(self, api: httpx.AsyncClient, base_url: str, call: BrowserCall) -> None:
        return None


def _end_reply(end: Mapping[str, Any]) -> Reply:
    """An `end` frame (or a turned-away answer) as the verbs a phone carrier would run."""
    says = (end["say"],) if end.get("say") else ()
    if end["outcome"] == "transfer":
        return Reply((*("Say",) * len(says), "Dial"), says, end["transfer_to"], None, end)
    return Reply((*("Say",) * len(says), "Hangup"), says, None, None, end)


CARRIERS: dict[str, Carrier] = {
    "twilio": TwilioCarrier(),
    "telnyx": TelnyxCarrier(),
    "browser": BrowserCarrier(),
}
