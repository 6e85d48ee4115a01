"""Use cases: cancel or reschedule an existing appointment."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.ports import Clock, UnitOfWorkFactory
from domain.scheduling import Appointment, AppointmentNotFound, Practice, offered_slot


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAppointment:
    appointment_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class RescheduleAppointment:
    appointment_id: UUID
    slot_id: str


class CancelAppointmentHandler:
    """Cancel a booked appointment that has not started; its time becomes open again.

    The row is locked for the transaction, so a concurrent reschedule waits its turn.
    """

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(self, command: CancelAppointment) -> Appointment:
        async with self._uow() as uow:
            appointment = await uow.appointments.get(command.appointment_id, for_update=True)
            if appointment is None:
                raise AppointmentNotFound()
            appointment.cancel(self._clock.now())
            await uow.appointments.update(appointment)
            await uow.commit()
        return appointment


class RescheduleAppointmentHandler:
    """Move a booked, future appointment to another offered slot of the same service.

    One transaction: the new time is taken and the old released together, or nothing
    changes (`SlotTaken` when someone else holds the new time).
    """

    def __init__(self, practice: Practice, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._practice, self._uow, self._clock = practice, uow, clock

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
            appointment.reschedule(slot, now)
            await uow.appointments.update(appointment)
            await uow.commit()
        return appointment
