"""The Twilio simulator's own HTTP-side helpers agree with Twilio's reference code."""

from __future__ import annotations

import re

import httpx
import pytest
from twilio.request_validator import RequestValidator

from tests.support.twilio_simulator import (
    TwimlRejected,
    call_params,
    new_call,
    new_sid,
    parse_twiml,
    post_status_callback,
    post_voice_webhook,
    sign,
)

TOKEN = "simulator-token-0123456789abcdef"


def test_sign_agrees_with_twilios_request_validator() -> None:
    params = call_params(new_call(), "ringing", Extra="a b&c=é")
    for url in ("https://example.com/twilio/voice", "https://example.com/v?x=1&y=%20"):
        assert sign(url, params, TOKEN) == RequestValidator(TOKEN).compute_signature(url, params)
    assert sign("wss://example.com/twilio/media", {}, TOKEN) == (
        RequestValidator(TOKEN).compute_signature("wss://example.com/twilio/media", {})
    )


def test_sids_have_twilios_shape() -> None:
    for prefix in ("CA", "MZ", "AC"):
        assert re.fullmatch(prefix + "[0-9a-f]{32}", new_sid(prefix))


async def test_webhooks_are_posted_form_encoded_and_signed() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="<Response/>")

    call = new_call()
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        await post_voice_webhook(client, "https://example.com/twilio/voice", TOKEN, call)
        await post_status_callback(
            client, "https://example.com/twilio/status", TOKEN, call, duration_s=42
        )
    voice, status = seen
    form = dict(httpx.QueryParams(voice.content.decode()))
    assert form["CallSid"] == call.call_sid
    assert form["CallStatus"] == "ringing"
    assert {"AccountSid", "From", "To", "Direction", "ApiVersion"} <= form.keys()
    assert voice.headers["X-Twilio-Signature"] == sign(str(voice.url), form, TOKEN)
    status_form = dict(httpx.QueryParams(status.content.decode()))
    assert status_form["CallStatus"] == "completed"
    assert status_form["CallDuration"] == "42"


@pytest.mark.parametrize(
    "xml",
    [
        "not xml",
        "<Reply/>",
        "<Response><Speak>hi</Speak></Response>",
        '<Response><Connect><Stream url="wss://h/m?x=1"/></Connect></Response>',
        '<Response><Connect><Stream url="https://h/m"/></Connect></Response>',
        '<Response><Connect><Stream url="wss://h/m"><Parameter value="v"/></Stream>'
        "</Connect></Response>",
    ],
)
def test_twiml_twilio_would_refuse_is_rejected(xml: str) -> None:
    with pytest.raises(TwimlRejected):
        parse_twiml(xml)
