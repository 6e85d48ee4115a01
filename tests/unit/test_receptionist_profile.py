"""The receptionist's profile: prompt, greeting and models rendered from the practice."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from application.ports import AgentProfile
from application.receptionist.profile import DEFAULT_GREETING, receptionist_profile
from application.receptionist.tool_arguments import tool_catalogue
from domain.scheduling import (
    Appointment,
    Channel,
    Patient,
    PhoneNumber,
    Practice,
    Receptionist,
    offered_slot,
)
from tests.support.practice import MONDAY, NOW, make_practice, slot_at

# 02:30 UTC on Saturday 21 November is still Friday 20 November, 21:30, in New York.
LATE_EVENING = datetime(2026, 11, 21, 2, 30, tzinfo=UTC)


def profile(
    practice: Practice | None = None,
    *,
    now: datetime = NOW,
    appointments: list[Appointment] | None = None,
) -> AgentProfile:
    return receptionist_profile(
        practice or make_practice(),
        now=now,
        tools=tool_catalogue(),
        caller_appointments=appointments,
    )


def test_the_prompt_gives_todays_date_in_the_practices_time_zone() -> None:
    prompt = profile(now=LATE_EVENING, appointments=[]).prompt
    assert "Today is Friday, November 20, 2026 (2026-11-20)" in prompt
    assert "America/New_York" in prompt
    assert "2026-11-21" not in prompt


def test_the_prompt_asks_for_iso_dates_and_a_confirmation_before_changes() -> None:
    prompt = profile(appointments=[]).prompt
    assert "ISO dates (YYYY-MM-DD)" in prompt
    assert "wait for the caller to say yes" in prompt


def test_the_prompt_lists_services_and_providers() -> None:
    prompt = profile(appointments=[]).prompt
    assert "- cleaning: Cleaning, 30 minutes" in prompt
    assert "- checkup: Checkup, 15 minutes" in prompt
    assert "- dr-lee: Dr. Lee, Dentist; offers checkup, cleaning" in prompt
    assert "- dr-kim: Dr. Kim, Hygienist; offers cleaning" in prompt
    assert "- Saturday: closed" in prompt
    assert "- Monday: 09:00-17:00" in prompt


def test_a_hidden_caller_id_tells_the_agent_to_ask_for_the_number() -> None:
    assert "number is hidden; ask for it" in profile(appointments=None).prompt
    assert "number is hidden" not in profile(appointments=[]).prompt


def test_the_callers_upcoming_appointments_are_listed() -> None:
    practice = make_practice()
    slot = offered_slot(
        practice, slot_id_value=slot_at("dr-kim", MONDAY, 9), service_id="cleaning", now=NOW
    )
    appointment = Appointment.book(
        patient=Patient("Ada Lovelace", PhoneNumber("+14155550123")),
        slot=slot,
        channel=Channel.PHONE,
        now=NOW,
    )
    prompt = profile(practice, appointments=[appointment]).prompt
    assert (
        f"- Cleaning with Dr. Kim, Monday, November 23 at 9 AM for Ada Lovelace "
        f"(appointment_id {appointment.id})"
    ) in prompt
    assert "no upcoming appointments" in profile(practice, appointments=[]).prompt


def test_transfers_are_offered_only_when_there_is_a_front_desk() -> None:
    assert "never offer a transfer" in profile(appointments=[]).prompt
    staffed = dataclasses.replace(make_practice(), front_desk_phone="+12125550199")
    assert "use transfer_to_human" in profile(staffed, appointments=[]).prompt


def test_the_default_greeting_names_the_practice() -> None:
    assert profile(appointments=[]).greeting == DEFAULT_GREETING.replace(
        "{practice}", "Test Dental"
    )
    assert "Test Dental" in (profile(appointments=[]).greeting or "")


def test_the_practice_can_override_the_greeting_even_with_stray_braces() -> None:
    practice = dataclasses.replace(
        make_practice(),
        receptionist=Receptionist(greeting="Hi, {practice} here {smile}. How can I help?"),
    )
    assert profile(practice, appointments=[]).greeting == (
        "Hi, Test Dental here {smile}. How can I help?"
    )


def test_the_practice_can_add_instructions_and_choose_a_voice_and_language() -> None:
    receptionist = Receptionist(
        instructions="Never book on Fridays.", voice="aura-2-orion-en", language="es"
    )
    practice = dataclasses.replace(make_practice(), receptionist=receptionist)
    rendered = profile(practice, appointments=[])
    assert rendered.prompt.endswith("Practice instructions:\nNever book on Fridays.\n")
    assert (rendered.voice, rendered.language) == ("aura-2-orion-en", "es")
    assert set(rendered.keyterms) == {"Dr. Lee", "Dr. Kim"}
