"""TeXML webhook forms parse into a typed value; bad fields are refused or dropped."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from adapters.telnyx.webhook_form import (
    FINAL_STATUSES,
    InvalidWebhookForm,
    parse_call_form,
    parse_form,
)
from tests.support.telnyx_simulator import call_params, new_call


def test_a_voice_webhook_becomes_an_incoming_telnyx_call() -> None:
    call = new_call()
    form = parse_call_form(parse_form(urlencode(call_params(call, "ringing")).encode()))
    incoming = form.incoming_call()
    assert (incoming.carrier, incoming.carrier_call_id) == ("telnyx", call.call_sid)
    assert (incoming.from_number, incoming.to_number) == (call.from_number, call.to_number)
    assert (form.call_status, form.final, form.account_sid) == ("ringing", False, call.account_sid)


@pytest.mark.parametrize("status", sorted(FINAL_STATUSES))
def test_statuses_of_a_call_that_is_over_are_final(status: str) -> None:
    params = call_params(new_call(), status, CallDuration="42")
    report = parse_call_form(params).status_report()
    assert (report.carrier_status, report.final, report.duration_s) == (status, True, 42)


@pytest.mark.parametrize("status", ["queued", "initiated", "ringing", "in-progress"])
def test_statuses_of_a_live_call_are_not_final(status: str) -> None:
    assert parse_call_form(call_params(new_call(), status)).status_report().final is False


@pytest.mark.parametrize(
    "sid", ["", "CA" + "0" * 32, "v3:", "v3:has space inside", "v3:" + "a" * 300]
)
def test_a_form_without_a_telnyx_call_sid_is_refused(sid: str) -> None:
    with pytest.raises(InvalidWebhookForm, match="CallSid"):
        parse_call_form({"CallSid": sid, "CallStatus": "ringing"})


def test_a_status_callback_without_a_status_is_refused() -> None:
    form = parse_call_form(call_params(new_call(), "Not A Status"))
    assert form.call_status is None
    with pytest.raises(InvalidWebhookForm, match="CallStatus"):
        form.status_report()


@pytest.mark.parametrize("duration", ["", "-1", "4.5", "²", "99999999", "90000"])
def test_an_implausible_duration_is_absent(duration: str) -> None:
    params = call_params(new_call(), "completed", CallDuration=duration)
    assert parse_call_form(params).duration_s is None


def test_unprintable_or_overlong_numbers_are_absent() -> None:
    call = new_call()
    params = call_params(call, "ringing", From="+1555\x00", To="+1" * 40)
    form = parse_call_form(params)
    assert (form.from_number, form.to_number) == ("", "")


@pytest.mark.parametrize("body", [b"\xff\xfe", b"a=1&" * 30_000])
def test_a_body_that_is_not_a_form_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidWebhookForm):
        parse_form(body)


def test_a_repeated_field_keeps_its_first_value() -> None:
    assert parse_form(b"CallSid=v3:first123456&CallSid=v3:second12345")["CallSid"] == (
        "v3:first123456"
    )
