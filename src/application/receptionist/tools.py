"""`invoke`: run one of the receptionist's tools for the model, and say how it went.

Every outcome is a short JSON object the model can act on: `{"ok": true, ...}` or
`{"ok": false, "error": code, "message": sentence, "next": what to do}`. Bad
arguments, unknown tools, broken rules and an unreachable database all come back this
way; nothing raises into the call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID

import msgspec

from application.errors import StorageUnavailable
from application.ports import Clock
from application.receptionist import tool_arguments as args
from application.receptionist.speech import say_time
from application.scheduling import (
    BookAppointment,
    BookAppointmentHandler,
    CancelAppointment,
    CancelAppointmentHandler,
    FindAppointments,
    FindAppointmentsHandler,
    FindOpenSlots,
    FindOpenSlotsHandler,
    GetAppointmentHandler,
    RescheduleAppointment,
    RescheduleAppointmentHandler,
)
from domain.calls import NextStep
from domain.scheduling import (
    Appointment,
    AppointmentStatus,
    Channel,
    PhoneNumber,
    Practice,
    SchedulingError,
    Slot,
)
from domain.webhooks import EventSource

SLOTS_OFFERED = 6
SLOT_SEARCH_DAYS = 14
_PARTS_OF_DAY = {
    "morning": (time(0), time(12)),
    "afternoon": (time(12), time(17)),
    "evening": (time(17), time(23, 59)),
}
_GUIDANCE = {
    "slot_taken": "Tell the caller that time was just taken and offer other open slots.",
    "invalid_input": "Ask the caller to repeat or spell the detail, then try again.",
    "not_your_appointment": "Only the patient's own appointments can be changed.",
    "storage_unavailable": "Apologise; the system is down. Offer to transfer to the front desk.",
    "no_front_desk": "No one can take the call; offer to help or take the caller's request.",
    "date_in_past": "Ask which date the caller means; use today's date or a later one.",
    "short_notice": "Explain the notice needed and offer the open slots check_available_slots "
    "finds; it lists only times far enough ahead.",
}
_encode = msgspec.json.Encoder().encode


@dataclass(slots=True)
class CallContext:
    """What the tools know about the call they serve.

    `known_phones` are numbers whose appointments the caller may see and change: the
    caller ID, and numbers they named together with the patient's name.
    `booked_here` are appointments booked in this call: the caller may change those
    (whatever number they are under) without learning anything else about that number.
    """

    call_id: UUID
    caller_phone: PhoneNumber | None
    known_phones: set[str] = field(default_factory=set)
    booked_here: set[UUID] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.caller_phone is not None:
            self.known_phones.add(self.caller_phone.e164)


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    content: str
    """JSON for the model."""
    outcome: str
    """"ok" or the error code, for the call record."""
    next_step: NextStep | None = None


class _Refusal(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _ok(next_step: NextStep | None = None, **payload: Any) -> ToolOutcome:
    return ToolOutcome(_encode({"ok": True, **payload}).decode(), "ok", next_step)


MAX_MESSAGE_CHARS = 200
"""An error's message may quote what the model sent (a field name, a tool name): it is
cut to this length, so a huge argument cannot make a huge result."""


def _error(code: str, message: str, next_hint: str | None = None) -> ToolOutcome:
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 1] + "…"
    body = {
        "ok": False,
        "error": code,
        "message": message,
        "next": next_hint or _GUIDANCE.get(code, "Explain this to the caller."),
    }
    return ToolOutcome(_encode(body).decode(), code)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceptionistTools:
    """The tools bound to the use cases; one instance serves every call."""

    practice: Practice
    clock: Clock
    find_open_slots: FindOpenSlotsHandler
    book_appointment: BookAppointmentHandler
    find_appointments: FindAppointmentsHandler
    get_appointment: GetAppointmentHandler
    reschedule_appointment: RescheduleAppointmentHandler
    cancel_appointment: CancelAppointmentHandler

    async def invoke(self, name: str, arguments: str, context: CallContext) -> ToolOutcome:
        arguments_type = args.ARGUMENT_TYPES.get(name)
        if arguments_type is None:
            known = ", ".join(args.ARGUMENT_TYPES)
            return _error("unknown_tool", f"There is no tool {name!r}.", f"Use one of: {known}.")
        try:
            parsed = msgspec.json.decode(arguments or "{}", type=arguments_type)
        except (msgspec.ValidationError, msgspec.DecodeError, UnicodeEncodeError) as exc:
            # UnicodeEncodeError: text with a lone surrogate, which is not UTF-8 at all.
            return _error(
                "invalid_arguments", str(exc), "Fix the arguments and call the tool again."
            )
        try:
            return await self._run(parsed, context)
        except _Refusal as refusal:
            return _error(refusal.code, refusal.message)
        except SchedulingError as exc:
            return _error(exc.code, exc.message)
        except StorageUnavailable:
            return _error("storage_unavailable", StorageUnavailable.message)

    async def _run(self, parsed: msgspec.Struct, context: CallContext) -> ToolOutcome:
        match parsed:
            case args.CheckAvailableSlots():
                return await self._check_slots(parsed)
            case args.BookAppointment():
                return await self._book(parsed, context)
            case args.FindAppointments():
                return await self._find(parsed, context)
            case args.RescheduleAppointment():
                appointment = await self._own_appointment(parsed.appointment_id, context)
                moved = await self.reschedule_appointment(
                    RescheduleAppointment(
                        appointment_id=appointment.id,
                        slot_id=parsed.slot_id,
                        source=EventSource.PHONE,
                    )
                )
                return _ok(appointment=self._describe(moved))
            case args.CancelAppointment():
                appointment = await self._own_appointment(parsed.appointment_id, context)
                cancelled = await self.cancel_appointment(
                    CancelAppointment(appointment_id=appointment.id, source=EventSource.PHONE)
                )
                return _ok(appointment=self._describe(cancelled))
            case args.TransferToHuman():
                if self.practice.front_desk_phone is None:
                    raise _Refusal("no_front_desk", "There is no front desk line to transfer to.")
                return _ok(NextStep.TRANSFER, note="Say you are transferring them now.")
            case args.EndCall():
                return _ok(NextStep.HANG_UP, note="Say a short goodbye now.")
        raise AssertionError(f"unhandled tool arguments {parsed!r}")  # pragma: no cover

    async def _check_slots(self, parsed: args.CheckAvailableSlots) -> ToolOutcome:
        zone, now = self.practice.time_zone, self.clock.now()
        try:
            first_day = (
                datetime.fromisoformat(parsed.date).date()
                if parsed.date
                else now.astimezone(zone).date()
            )
        except ValueError:
            raise _Refusal("invalid_input", f"{parsed.date!r} is not a date.") from None
        today = now.astimezone(zone).date()
        if first_day < today:
            raise _Refusal(
                "date_in_past", f"{first_day.isoformat()} has passed; today is {today.isoformat()}."
            )
        if first_day > today + self.practice.booking_horizon:
            days = self.practice.booking_horizon.days
            raise _Refusal("beyond_horizon", f"We only book up to {days} days ahead.")
        start = datetime.combine(first_day, time(0), tzinfo=zone)
        slots = await self.find_open_slots(
            FindOpenSlots(
                service_id=parsed.service,
                provider_id=parsed.provider,
                starts_from=start,
                starts_before=start + timedelta(days=SLOT_SEARCH_DAYS),
                local_times=_PARTS_OF_DAY.get(parsed.part_of_day),  # "any": None
                limit=SLOTS_OFFERED,
            )
        )
        offered = [self._describe_slot(s) for s in slots]
        if not offered:
            return _ok(
                slots=[], note=f"Nothing open in the {SLOT_SEARCH_DAYS} days from that date."
            )
        return _ok(slots=offered)

    async def _book(self, parsed: args.BookAppointment, context: CallContext) -> ToolOutcome:
        phone = parsed.patient_phone or (
            context.caller_phone.e164 if context.caller_phone else None
        )
        if phone is None:
            raise _Refusal("invalid_input", "I need a phone number for the booking.")
        booked = await self.book_appointment(
            BookAppointment(
                slot_id=parsed.slot_id,
                service_id=parsed.service,
                patient_name=parsed.patient_name,
                patient_phone=phone,
                channel=Channel.PHONE,
                call_id=context.call_id,
            )
        )
        context.booked_here.add(booked.appointment.id)
        return _ok(appointment=self._describe(booked.appointment))

    async def _find(self, parsed: args.FindAppointments, context: CallContext) -> ToolOutcome:
        if parsed.patient_phone is None:
            if context.caller_phone is None:
                raise _Refusal("invalid_input", "The caller's number is hidden; ask for it.")
            phone = context.caller_phone
        else:
            phone = PhoneNumber.parse(
                parsed.patient_phone, default_region=self.practice.default_region
            )
        page = await self.find_appointments(
            FindAppointments(
                phone=phone.e164, status=AppointmentStatus.BOOKED, starts_from=self.clock.now()
            )
        )
        found = list(page.items)
        if phone.e164 not in context.known_phones:
            name = " ".join((parsed.patient_name or "").lower().split())
            if not name:
                raise _Refusal(
                    "invalid_input", "For another number I also need the patient's full name."
                )
            found = [a for a in found if a.patient.name.lower() == name]
            if found:
                context.known_phones.add(phone.e164)
        return _ok(appointments=[self._describe(a) for a in found])

    async def _own_appointment(self, raw_id: str, context: CallContext) -> Appointment:
        try:
            appointment_id = UUID(raw_id)
        except ValueError:
            raise _Refusal("invalid_input", "That appointment id is not valid.") from None
        appointment = await self.get_appointment(appointment_id)
        known = appointment.patient.phone.e164 in context.known_phones
        if not known and appointment.id not in context.booked_here:
            raise _Refusal(
                "not_your_appointment", "That appointment isn't under the caller's number."
            )
        return appointment

    def _describe_slot(self, slot: Slot) -> dict[str, str]:
        return {
            "slot_id": slot.id,
            "provider": self.practice.providers[slot.provider_id].name,
            "time": say_time(slot.start, self.practice.time_zone),
        }

    def _describe(self, appointment: Appointment) -> dict[str, str]:
        slot = appointment.slot
        return {
            "appointment_id": str(appointment.id),
            "status": appointment.status.value,
            "service": self.practice.services[slot.service_id].name,
            "provider": self.practice.providers[slot.provider_id].name,
            "time": say_time(slot.start, self.practice.time_zone),
            "patient_name": appointment.patient.name,
        }
