"""Appointment rules: booking, cancelling and moving, and the patient's details."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.scheduling import (
    Appointment,
    AppointmentNotChangeable,
    AppointmentStatus,
    Channel,
    InvalidInput,
    Patient,
    PhoneNumber,
    Slot,
    SlotInPast,
)

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def slot(hours_ahead: float, service: str = "checkup") -> Slot:
    start = NOW + timedelta(hours=hours_ahead)
    return Slot("dr-lee", service, start, start + timedelta(minutes=30))


def booked(hours_ahead: float = 24) -> Appointment:
    patient = Patient("Ada Lovelace", PhoneNumber("+14155550123"))
    return Appointment.book(patient=patient, slot=slot(hours_ahead), channel=Channel.API, now=NOW)


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("(415) 555-0123", "US", "+14155550123"),
        ("+1 415-555-0123", "US", "+14155550123"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("+44 20 7946 0018", "US", "+442079460018"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw: str, region: str, e164: str) -> None:
    assert PhoneNumber.parse(raw, default_region=region).e164 == e164


@pytest.mark.parametrize("raw", ["", "hello", "123", "+1 000 000 0000", "4155550123" * 3])
def test_invalid_phone_numbers_are_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        PhoneNumber.parse(raw, default_region="US")
    assert exc.value.field == "phone"


def test_a_masked_phone_number_hides_all_but_the_last_two_digits() -> None:
    assert PhoneNumber("+14155550123").masked == "+1******23"


def test_patient_names_are_tidied_and_must_not_be_blank() -> None:
    assert Patient("  Ada   Lovelace ", PhoneNumber("+14155550123")).name == "Ada Lovelace"
    with pytest.raises(InvalidInput):
        Patient("   ", PhoneNumber("+14155550123"))
    with pytest.raises(InvalidInput):
        Patient("x" * 500, PhoneNumber("+14155550123"))


def test_booking_a_slot_in_the_past_is_refused() -> None:
    patient = Patient("Ada", PhoneNumber("+14155550123"))
    with pytest.raises(SlotInPast):
        Appointment.book(patient=patient, slot=slot(-1), channel=Channel.PHONE, now=NOW)


def test_a_new_booking_is_booked_with_its_channel_and_times() -> None:
    appointment = booked()
    assert appointment.status is AppointmentStatus.BOOKED
    assert appointment.channel is Channel.API
    assert appointment.created_at == appointment.updated_at == NOW


def test_cancelling_records_when() -> None:
    appointment = booked()
    later = NOW + timedelta(minutes=5)
    appointment.cancel(later)
    assert appointment.status is AppointmentStatus.CANCELLED
    assert appointment.cancelled_at == later


def test_a_cancelled_appointment_cannot_be_cancelled_or_moved() -> None:
    appointment = booked()
    appointment.cancel(NOW)
    with pytest.raises(AppointmentNotChangeable):
        appointment.cancel(NOW)
    with pytest.raises(AppointmentNotChangeable):
        appointment.reschedule(slot(48), NOW)


def test_a_started_appointment_cannot_be_cancelled() -> None:
    appointment = booked(hours_ahead=1)
    with pytest.raises(AppointmentNotChangeable):
        appointment.cancel(NOW + timedelta(hours=1, minutes=1))


def test_rescheduling_moves_the_slot_and_keeps_the_identity() -> None:
    appointment = booked()
    original_id = appointment.id
    appointment.reschedule(slot(48), NOW)
    assert appointment.id == original_id
    assert appointment.slot == slot(48)
    assert appointment.status is AppointmentStatus.BOOKED


def test_rescheduling_into_the_past_is_refused() -> None:
    with pytest.raises(SlotInPast):
        booked().reschedule(slot(-2), NOW)
