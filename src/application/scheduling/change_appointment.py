"""Use cases: cancel or reschedule an existing appointment."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.notifications.confirmations import ConfirmationTexts
from application.ports import Clock, UnitOfWorkFactory
from application.webhooks.payloads import appointment_event
from domain.scheduling import Appointment, AppointmentNotFound, Practice, offered_slot
from domain.webhooks import EventSource, EventType


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAppointment:
    appointment_id: UUID
    source: EventSource
    """Who asked: reported to integrators in `appointment.cancelled`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RescheduleAppointment:
    appointment_id: UUID
    slot_id: str
    source: EventSource


class CancelAppointmentHandler:
    """Cancel a booked appointment that has not started; its time becomes open again.

    The row is locked for the transaction, so a concurrent reschedule waits its turn.
    `appointment.cancelled` (and, with `texts`, the patient's text) is written to the
    outbox in the same transaction, and its pending reminder is voided.
    """

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, *, texts: ConfirmationTexts | None = None
    ) -> None:
        self._uow, self._clock, self._texts = uow, clock, texts

    async def __call__(self, command: CancelAppointment) -> Appointment:
        async with self._uow() as uow:
            appointment = await uow.appointments.get(command.appointment_id, for_update=True)
            if appointment is None:
                raise AppointmentNotFound()
            now = self._clock.now()
            appointment.cancel(now)
            await uow.appointments.update(appointment)
            await uow.outbox.add(
                appointment_event(
                    EventType.APPOINTMENT_CANCELLED, appointment, source=command.source, now=now
                )
            )
            await uow.outbox.void_reminders(appointment.id)
            if self._texts is not None:
                await uow.outbox.add_text(self._texts.cancelled(appointment, now))
            await uow.commit()
        return appointment


class RescheduleAppointmentHandler:
    """Move a booked, future appointment to another offered slot of the same service.

    One transaction: the new time is taken and the old released together, or nothing
    changes (`SlotTaken` when someone else holds the new time);
    `appointment.rescheduled` (with the slot it left; with `texts`, the patient's text) is
    written to the outbox with it; its pending reminder is voided and a new one scheduled
    for the new time.
    """

    def __init__(
        self,
        practice: Practice,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        texts: ConfirmationTexts | None = None,
    ) -> None:
        self._practice, self._uow, self._clock = practice, uow, clock
        self._texts = texts

    async def __call__(self, command: RescheduleAppointment) -> Appointment:
        now = self._clock.now()
        async with self._uow() as uow:
            appointment = await uow.appointments.get(command.appointment_id, for_update=True)
            if appointment is None:
                raise AppointmentNotFound()
            slot = offered_slot(
                self._practice,
                slot_id_value=command.slot_id,
                service_id=appointment.slot.service_id,
                now=now,
            )
            previous = appointment.slot
            appointment.reschedule(slot, now)
            await uow.appointments.update(appointment)
            await uow.outbox.add(
                appointment_event(
                    EventType.APPOINTMENT_RESCHEDULED,
                    appointment,
                    source=command.source,
                    now=now,
                    previous_slot=previous,
                )
            )
            await uow.outbox.void_reminders(appointment.id)
            if self._texts is not None:
                await uow.outbox.add_text(self._texts.rescheduled(appointment, now))
                reminder = self._texts.reminder(appointment, now)
                if reminder is not None:
                    await uow.outbox.add_text(reminder)
            await uow.commit()
        return appointment
