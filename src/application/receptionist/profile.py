"""The receptionist's profile for one call: prompt, greeting and voice, rendered from the
practice and today's date in its time zone. Provider-neutral: an adapter turns it into
its own settings message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from application.ports import AgentProfile, ToolSpec
from application.receptionist.speech import say_date, say_time
from domain.scheduling import Appointment, Practice, Weekday

DEFAULT_GREETING = "Hello, thank you for calling {practice}. How can I help you today?"


def _hours(practice: Practice) -> str:
    lines = []
    for day in Weekday:
        intervals = practice.hours.get(day, ())
        spans = ", ".join(f"{i.opens:%H:%M}-{i.closes:%H:%M}" for i in intervals) or "closed"
        lines.append(f"- {day.name.title()}: {spans}")
    return "\n".join(lines)


def _appointments(practice: Practice, appointments: Sequence[Appointment]) -> str:
    if not appointments:
        return "The caller's number has no upcoming appointments."
    lines = [
        f"- {practice.services[a.slot.service_id].name} with "
        f"{practice.providers[a.slot.provider_id].name}, "
        f"{say_time(a.slot.start, practice.time_zone)} for {a.patient.name} "
        f"(appointment_id {a.id})"
        for a in appointments
    ]
    return "Upcoming appointments under the caller's number:\n" + "\n".join(lines)


def receptionist_profile(
    practice: Practice,
    *,
    now: datetime,
    tools: Sequence[ToolSpec],
    caller_appointments: Sequence[Appointment] | None,
) -> AgentProfile:
    """`caller_appointments` is None when the caller ID is hidden or unusable."""
    today = now.astimezone(practice.time_zone).date()
    services = "\n".join(
        f"- {s.id}: {s.name}, {int(s.duration.total_seconds() // 60)} minutes"
        for s in practice.services.values()
    )
    providers = "\n".join(
        f"- {p.id}: {p.name}, {p.title}; offers {', '.join(sorted(p.service_ids))}"
        for p in practice.providers.values()
    )
    caller = (
        "The caller's number is hidden; ask for it before looking up appointments."
        if caller_appointments is None
        else _appointments(practice, caller_appointments)
    )
    transfer = (
        "If the caller asks for a person, or you cannot help, use transfer_to_human."
        if practice.front_desk_phone
        else "No one else can take calls; never offer a transfer."
    )
    prompt = f"""You are the friendly phone receptionist of {practice.name}.
Today is {say_date(today)} ({today.isoformat()}); times are in {practice.time_zone.key}.
You are on a phone call: answer in one or two short spoken sentences, no lists or markup.

You can check open slots, book, find, move and cancel appointments with your tools.
- Always use ISO dates (YYYY-MM-DD) in tool arguments, and slot_ids exactly as returned.
- Before booking, moving or cancelling, read back the service, provider, day and time
  (and the name, for a booking) and wait for the caller to say yes.
- Offer at most three times at once. Never invent a slot; only offer what the tools return.
- When a tool reports an error, follow its "next" advice.
- {transfer}
- When the caller is done, say goodbye and use end_call.

Services:
{services}

Providers:
{providers}

Opening hours:
{_hours(practice)}

{caller}
"""
    receptionist = practice.receptionist
    instructions = receptionist.instructions
    if instructions:
        prompt += f"\nPractice instructions:\n{instructions}\n"
    # `replace`, not `format`: an operator's greeting may hold other braces.
    greeting = (receptionist.greeting or DEFAULT_GREETING).replace("{practice}", practice.name)
    return AgentProfile(
        prompt=prompt,
        greeting=greeting,
        voice=receptionist.voice,
        language=receptionist.language,
        tools=tools,
        keyterms=tuple(p.name for p in practice.providers.values()),
    )
