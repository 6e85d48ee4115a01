"""Hostile or odd input at the Twilio webhooks, on a real server over PostgreSQL: forms
signed with the account's token but carrying missing, malformed, over-long or NUL-laden
fields. Never a 5xx; the voice webhook answers 400 or a call; after-stream always TwiML;
status 204 or 400; and the server stays ready."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.e2e.phone_fixtures import TWILIO_TOKEN, PhoneLine, phone_line
from tests.support.twilio_simulator import (
    SIGNATURE_HEADER,
    TwimlReply,
    call_params,
    new_call,
    new_sid,
    parse_twiml,
    post_signed,
    sign,
)

WITHHELD_CALLER_IDS = ["anonymous", "Restricted", "", "+266696687", "client:alice", "sip:x@y"]


@pytest.fixture(scope="module")
async def line(migrated_postgres_url: str) -> AsyncIterator[PhoneLine]:
    """One server for the whole module (examples are many; a server start is not cheap)."""
    # Every valid-looking ring reserves a place: room for all the examples' rings.
    async with phone_line(migrated_postgres_url, max_concurrent_calls=10_000) as line:
        yield line


async def post(line: PhoneLine, path: str, form: dict[str, str]) -> httpx.Response:
    return await post_signed(line.api, f"{line.base_url}{path}", form, TWILIO_TOKEN)


async def stored_call(line: PhoneLine, call_sid: str) -> dict[str, object] | None:
    response = await line.api.get(f"/api/v1/calls/{call_sid}")
    assert response.status_code in (200, 404), response.text
    if response.status_code == 404:
        return None
    record: dict[str, object] = response.json()["call"]
    return record


async def ring(line: PhoneLine, **fields: str) -> tuple[str, TwimlReply]:
    call = new_call()
    response = await post(line, "/twilio/voice", call_params(call, "ringing", **fields))
    assert response.status_code == 200, response.text
    return call.call_sid, parse_twiml(response.text)


# --- the known cases, one by one ------------------------------------------------------


@pytest.mark.parametrize("duration", ["²", "٣", "10" * 15, "-5", " 12", "1e3", "12\x00"])
async def test_an_odd_call_duration_is_recorded_as_unknown(line: PhoneLine, duration: str) -> None:
    call_sid, _ = await ring(line)
    form = call_params(new_call(), "completed", CallDuration=duration)
    form["CallSid"] = call_sid
    response = await post(line, "/twilio/status", form)
    assert response.status_code == 204, response.text
    record = await stored_call(line, call_sid)
    assert record is not None
    assert record["status"] == "ended"
    assert record["duration_s"] is None


async def test_a_sane_call_duration_is_recorded(line: PhoneLine) -> None:
    call_sid, _ = await ring(line)
    form = call_params(new_call(), "completed", CallDuration="42")
    form["CallSid"] = call_sid
    assert (await post(line, "/twilio/status", form)).status_code == 204
    record = await stored_call(line, call_sid)
    assert record is not None
    assert record["duration_s"] == 42


@pytest.mark.parametrize("field", ["CallSid", "From", "To", "CallStatus"])
async def test_a_nul_in_a_field_is_answered_not_a_server_error(line: PhoneLine, field: str) -> None:
    call = new_call(from_number="+14155550123")
    form = call_params(call, "ringing")
    form[field] = form[field] + "\x00"
    voice = await post(line, "/twilio/voice", form)
    if field == "CallSid":
        assert voice.status_code == 400
    else:
        assert voice.status_code == 200, voice.text
        assert parse_twiml(voice.text).stream_url is not None
    after = await post(line, "/twilio/after-stream", {**form, "CallStatus": "in-progress"})
    assert after.status_code == 200, after.text
    parse_twiml(after.text)
    status = await post(line, "/twilio/status", {**form, "CallStatus": "completed"})
    assert status.status_code in (204, 400), status.text


@pytest.mark.parametrize("field", ["CallSid", "From", "To", "CallStatus"])
async def test_an_over_long_field_is_answered_not_a_server_error(
    line: PhoneLine, field: str
) -> None:
    call = new_call(from_number="+14155550123")
    form = call_params(call, "ringing")
    form[field] = form[field] + "9" * 100
    voice = await post(line, "/twilio/voice", form)
    assert voice.status_code == (400 if field == "CallSid" else 200), voice.text
    status = await post(line, "/twilio/status", {**form, "CallStatus": "completed"})
    assert status.status_code in (204, 400), status.text
    after = await post(line, "/twilio/after-stream", form)
    assert after.status_code == 200, after.text
    parse_twiml(after.text)


@pytest.mark.parametrize("caller_id", WITHHELD_CALLER_IDS)
async def test_a_withheld_or_odd_caller_id_still_gets_a_call(
    line: PhoneLine, caller_id: str
) -> None:
    call_sid, reply = await ring(line, From=caller_id, Caller=caller_id)
    assert reply.stream_url is not None
    record = await stored_call(line, call_sid)
    assert record is not None
    # Twilio's pseudo-number for a withheld ID is nobody's phone: it is kept as its word.
    assert record["from_number"] == ("anonymous" if caller_id == "+266696687" else caller_id)


async def test_missing_fields_on_after_stream_and_status_are_answered(line: PhoneLine) -> None:
    after = await post(line, "/twilio/after-stream", {})
    assert after.status_code == 200, after.text
    assert parse_twiml(after.text).verbs == ("Hangup",)
    assert (await post(line, "/twilio/status", {})).status_code == 400
    unknown = call_params(new_call(), "completed", CallDuration="3")
    assert (await post(line, "/twilio/status", unknown)).status_code == 204
    assert await stored_call(line, unknown["CallSid"]) is None
    assert (await post(line, "/twilio/voice", {})).status_code == 400


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", '{"CallSid": "CA%s"}' % ("0" * 32)),
        ("text/plain", "CallSid=CA" + "0" * 32),
        ("multipart/form-data", "garbage"),
        ("application/x-www-form-urlencoded", "%%%&&&=="),
        ("application/x-www-form-urlencoded", "CallSid=%FF%FE&From=%ED%A0%80"),
    ],
)
async def test_a_body_that_is_not_a_twilio_form_is_answered_without_a_server_error(
    line: PhoneLine, content_type: str, body: str
) -> None:
    for path in ("/twilio/voice", "/twilio/after-stream", "/twilio/status"):
        url = f"{line.base_url}{path}"
        response = await line.api.post(
            url,
            content=body.encode(),
            headers={"Content-Type": content_type, SIGNATURE_HEADER: sign(url, {}, TWILIO_TOKEN)},
        )
        assert response.status_code < 500, (path, response.text)


# --- anything at all, signed --------------------------------------------------------

_ODD = st.sampled_from(
    [
        *("", "\x00", "²", "٣", "-1", str(10**30), "9" * 100, "anonymous", "client:alice"),
        *("sip:x@y", "completed", "in-progress", "CA" + "g" * 32, "' OR 1=1 --", "\r\n"),
    ]
)
_SID = st.one_of(st.builds(new_sid, st.just("CA")), st.builds(lambda: new_sid("CA") + "\x00"))
_VALUE = st.one_of(_ODD, _SID, st.text(max_size=80))
_FORM = st.fixed_dictionaries(
    {},
    optional={
        "CallSid": _VALUE | _SID,
        "From": _VALUE,
        "To": _VALUE,
        "CallStatus": _VALUE,
        "CallDuration": _VALUE,
        "AccountSid": _VALUE,
        "Direction": _VALUE,
    },
)


_AGAINST_A_SERVER: dict[str, Any] = {
    "deadline": None,  # each example is HTTP round trips to a real server
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


@settings(max_examples=60, **_AGAINST_A_SERVER)
@given(form=_FORM)
async def test_any_signed_form_gets_a_clear_answer_and_the_server_stays_ready(
    line: PhoneLine, form: dict[str, str]
) -> None:
    voice = await post(line, "/twilio/voice", form)
    assert voice.status_code in (200, 400), voice.text
    if voice.status_code == 200:
        parse_twiml(voice.text)
    after = await post(line, "/twilio/after-stream", form)
    assert after.status_code == 200, after.text
    parse_twiml(after.text)
    status = await post(line, "/twilio/status", form)
    assert status.status_code in (204, 400), status.text
    ready = await line.api.get("/readyz")
    assert ready.status_code == 200, ready.text


@settings(max_examples=15, **_AGAINST_A_SERVER)
@given(form=_FORM)
async def test_a_forged_signature_on_any_form_is_refused_and_stores_nothing(
    line: PhoneLine, form: dict[str, str]
) -> None:
    sid = new_sid("CA")
    form = {**form, "CallSid": sid}
    for path in ("/twilio/voice", "/twilio/after-stream", "/twilio/status"):
        response = await post_signed(
            line.api, f"{line.base_url}{path}", form, TWILIO_TOKEN, signature="Zm9yZ2Vk"
        )
        assert response.status_code == 403, (path, response.text)
    assert await stored_call(line, sid) is None
