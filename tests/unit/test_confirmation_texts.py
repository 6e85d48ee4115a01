"""Confirmation texts: short, in the practice's time zone, with the front desk's number."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from application.notifications import ConfirmationTexts
from domain.scheduling import Appointment, Channel, Patient, PhoneNumber, offered_slot
from tests.support.practice import MONDAY, NOW, make_practice, slot_at


def appointment(hour: int, minute: int = 0) -> Appointment:
    practice = make_practice()
    slot = offered_slot(
        practice,
        slot_id_value=slot_at("dr-kim", MONDAY, hour, minute),
        service_id="cleaning",
        now=NOW,
    )
    return Appointment.book(
        patient=Patient("Ada Lovelace", PhoneNumber("+14155550123")),
        slot=slot,
        channel=Channel.PHONE,
        now=NOW,
    )


def test_a_booking_text_names_the_practice_service_provider_and_local_time() -> None:
    text = ConfirmationTexts(make_practice()).booked(appointment(15, 45), NOW)

    assert text.to == "+14155550123"
    assert (
        text.body == "Test Dental: your cleaning with Dr. Kim is booked for Mon Nov 23 at 3:45 PM."
    )
    assert text.created_at == NOW
    assert "+1415" not in repr(text)
    assert "Dental" not in repr(text)


def test_the_front_desk_number_is_given_when_the_practice_has_one() -> None:
    practice = replace(make_practice(), front_desk_phone="+14155550100")

    text = ConfirmationTexts(practice).cancelled(appointment(9), NOW + timedelta(minutes=1))

    assert text.body == (
        "Test Dental: your cleaning with Dr. Kim on Mon Nov 23 at 9 AM is cancelled."
        " Questions? Call +14155550100."
    )
    assert len(text.body) <= 160
