"""Use cases: read appointments, one by id or a filtered page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application.ports import AppointmentQuery, Page, UnitOfWorkFactory
from domain.scheduling import (
    Appointment,
    AppointmentNotFound,
    AppointmentStatus,
    PhoneNumber,
    Practice,
)

MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class FindAppointments:
    phone: str | None = None
    status: AppointmentStatus | None = None
    provider_id: str | None = None
    service_id: str | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    limit: int = 50
    offset: int = 0


class FindAppointmentsHandler:
    """A page of appointments, by start time, every filter combined with AND. The phone
    is normalised like a booking's, so `(415) 555-0123` finds what `+14155550123`
    booked; a provider or service the practice does not have is refused
    (`UnknownProvider`, `UnknownService`) rather than matching nothing. Reads only."""

    def __init__(self, practice: Practice, uow: UnitOfWorkFactory) -> None:
        self._practice, self._uow = practice, uow

    async def __call__(self, command: FindAppointments) -> Page[Appointment]:
        phone = (
            PhoneNumber.parse(command.phone, default_region=self._practice.default_region)
            if command.phone is not None
            else None
        )
        if command.provider_id is not None:
            self._practice.provider(command.provider_id)
        if command.service_id is not None:
            self._practice.service(command.service_id)
        query = AppointmentQuery(
            phone=phone,
            status=command.status,
            provider_id=command.provider_id,
            service_id=command.service_id,
            starts_from=command.starts_from,
            starts_before=command.starts_before,
            limit=max(1, min(command.limit, MAX_PAGE_SIZE)),
            offset=max(0, command.offset),
        )
        async with self._uow() as uow:
            return await uow.appointments.find(query)


class GetAppointmentHandler:
    """One appointment by id, or `AppointmentNotFound`."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, appointment_id: UUID) -> Appointment:
        async with self._uow() as uow:
            appointment = await uow.appointments.get(appointment_id)
        if appointment is None:
            raise AppointmentNotFound()
        return appointment
