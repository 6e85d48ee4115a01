"""The confirmation texts a patient gets when an appointment is booked, moved or cancelled."""

from __future__ import annotations

from datetime import datetime

from application.ports import TextMessage
from domain.scheduling import Appointment, Practice


class ConfirmationTexts:
    """Renders one short SMS per change, in the practice's time zone. Use cases write it to
    the outbox in the change's own transaction (`uow.outbox.add_text`); a practice
    without texting configured passes no `ConfirmationTexts` and nothing is written."""

    def __init__(self, practice: Practice) -> None:
        self._practice = practice

    def booked(self, appointment: Appointment, now: datetime) -> TextMessage:
        return self._text(appointment, "is booked for", now)

    def rescheduled(self, appointment: Appointment, now: datetime) -> TextMessage:
        return self._text(appointment, "has moved to", now)

    def cancelled(self, appointment: Appointment, now: datetime) -> TextMessage:
        return self._text(appointment, "on", now, suffix=" is cancelled.")

    def _text(
        self, appointment: Appointment, verb: str, now: datetime, *, suffix: str = "."
    ) -> TextMessage:
        practice, slot = self._practice, appointment.slot
        service = practice.services[slot.service_id].name.lower()
        provider = practice.providers[slot.provider_id].name
        when = _when(slot.start.astimezone(practice.time_zone))
        body = f"{practice.name}: your {service} with {provider} {verb} {when}{suffix}"
        if practice.front_desk_phone:
            body += f" Questions? Call {practice.front_desk_phone}."
        return TextMessage(to=appointment.patient.phone.e164, body=body, created_at=now)


def _when(local: datetime) -> str:
    """`Mon Dec 1 at 9:30 AM`."""
    hour = local.strftime("%I").lstrip("0")
    minute = "" if local.minute == 0 else local.strftime(":%M")
    return f"{local.strftime('%a %b')} {local.day} at {hour}{minute} {local.strftime('%p')}"
