"""`clean_call_webhook_form`: Twilio's call fields, kept when sound, marked absent when not."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.twilio.webhook_form import (
    MAX_ADDRESS_LENGTH,
    MAX_CALL_DURATION_S,
    clean_call_webhook_form,
)

SID = "CA" + "0123456789abcdef" * 2


def test_a_well_formed_form_is_kept_as_sent() -> None:
    form = clean_call_webhook_form(
        {
            "CallSid": SID,
            "From": "+14155550123",
            "To": "+14155550100",
            "CallStatus": "in-progress",
            "CallDuration": "42",
        }
    )
    assert form.call_sid == SID
    assert form.from_number == "+14155550123"
    assert form.to_number == "+14155550100"
    assert form.call_status == "in-progress"
    assert form.duration_s == 42


def test_an_empty_form_has_every_field_absent() -> None:
    form = clean_call_webhook_form({})
    assert form.call_sid is None
    assert form.from_number == ""
    assert form.to_number == ""
    assert form.call_status is None
    assert form.duration_s is None


@pytest.mark.parametrize(
    "sid",
    [
        *("", "CA", "CA1", SID + "0", SID[:-1], "ca" + SID[2:], "AC" + SID[2:], SID[:-1] + "g"),
        *(SID + "\x00", SID[:-1] + "\x00", SID + "\n", " " + SID, SID[:-1] + "٣"),
    ],
)
def test_a_call_sid_not_shaped_like_twilios_is_absent(sid: str) -> None:
    assert clean_call_webhook_form({"CallSid": sid}).call_sid is None


@pytest.mark.parametrize("caller", ["anonymous", "Restricted", "", "client:alice", "sip:x@y"])
def test_withheld_and_non_phone_caller_ids_are_kept_as_sent(caller: str) -> None:
    assert clean_call_webhook_form({"From": caller}).from_number == caller


@pytest.mark.parametrize(
    ("pseudo_number", "word"), [("+266696687", "anonymous"), ("+7378742833", "restricted")]
)
def test_a_withheld_caller_pseudo_number_is_kept_as_its_word_not_as_a_phone(
    pseudo_number: str, word: str
) -> None:
    assert clean_call_webhook_form({"From": pseudo_number}).from_number == word


@pytest.mark.parametrize(
    "caller", ["+14155550123\x00", "\x00", "+1415\n5550123", "9" * (MAX_ADDRESS_LENGTH + 1)]
)
def test_a_caller_id_with_control_characters_or_over_long_is_unknown(caller: str) -> None:
    form = clean_call_webhook_form({"From": caller, "To": caller})
    assert form.from_number == ""
    assert form.to_number == ""


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        *[("0", 0), ("7", 7), ("0042", 42), (str(MAX_CALL_DURATION_S), MAX_CALL_DURATION_S)],
        *[("", None), ("²", None), ("٣", None), ("-5", None), ("+5", None), (" 5", None)],
        *[("5\x00", None), ("1e3", None), ("1.5", None), ("10" * 15, None)],
        *[(str(MAX_CALL_DURATION_S + 1), None), (str(2**31), None)],
    ],
)
def test_call_duration_is_a_plain_ascii_count_of_seconds_within_a_day(
    raw: str, seconds: int | None
) -> None:
    assert clean_call_webhook_form({"CallDuration": raw}).duration_s == seconds


@pytest.mark.parametrize("status", ["", "Completed", "in progress", "completed\x00", "x" * 33])
def test_a_call_status_not_shaped_like_twilios_is_absent(status: str) -> None:
    assert clean_call_webhook_form({"CallStatus": status}).call_status is None


_FIELDS = ["CallSid", "From", "To", "CallStatus", "CallDuration", "Caller", "Direction"]


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(_FIELDS),
        st.one_of(st.text(), st.text(alphabet="CA0123456789abcdef\x00²٣", max_size=40)),
    )
)
def test_whatever_the_form_holds_what_comes_out_is_safe_to_store(params: dict[str, str]) -> None:
    form = clean_call_webhook_form(params)
    assert form.call_sid is None or re.fullmatch(r"CA[0-9a-fA-F]{32}", form.call_sid)
    for address in (form.from_number, form.to_number):
        assert len(address) <= MAX_ADDRESS_LENGTH
        assert "\x00" not in address
        assert address.isprintable()
    assert form.call_status is None or re.fullmatch(r"[a-z-]{1,32}", form.call_status)
    assert form.duration_s is None or 0 <= form.duration_s <= MAX_CALL_DURATION_S
