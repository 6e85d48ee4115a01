"""The texts a patient gets: a confirmation when an appointment is booked, moved or
cancelled, and (when the practice asks for them) a reminder before it."""

from __future__ import annotations

from datetime import datetime

from application.ports import TextKind, TextMessage
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

    def reminder(self, appointment: Appointment, now: datetime) -> TextMessage | None:
        """The reminder, due `reminder_before` the start; None when the practice sends no
        reminders or that time has already passed (the confirmation just sent will do)."""
        before = self._practice.texts.reminder_before
        if before is None:
            return None
        send_at = appointment.slot.start - before
        if send_at <= now:
            return None
        text = self._text(appointment, "is on", now, lead="reminder: ")
        return TextMessage(
            to=text.to,
            body=text.body,
            created_at=now,
            kind=TextKind.REMINDER,
            appointment_id=appointment.id,
            send_at=send_at,
        )

    def _text(
        self,
        appointment: Appointment,
        verb: str,
        now: datetime,
        *,
        suffix: str = ".",
        lead: str = "",
    ) -> TextMessage:
        practice, slot = self._practice, appointment.slot
        service = practice.services[slot.service_id].name.lower()
        provider = practice.providers[slot.provider_id].name
        when = _when(slot.start.astimezone(practice.time_zone))
        body = f"{practice.name}: {lead}your {service} with {provider} {verb} {when}{suffix}"
        if practice.front_desk_phone:
            body += f" Questions? Call {practice.front_desk_phone}."
        return TextMessage(
            to=appointment.patient.phone.e164,
            body=body,
            created_at=now,
            appointment_id=appointment.id,
        )


def _when(local: datetime) -> str:
    """`Mon Dec 1 at 9:30 AM`."""
    hour = local.strftime("%I").lstrip("0")
    minute = "" if local.minute == 0 else local.strftime(":%M")
    return f"{local.strftime('%a %b')} {local.day} at {hour}{minute} {local.strftime('%p')}"
