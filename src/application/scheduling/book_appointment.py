"""Use case: book a slot for a patient."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from uuid import UUID

from application.errors import DuplicateIdempotencyKey
from application.notifications.confirmations import ConfirmationTexts
from application.ports import Clock, IdempotencyRecord, UnitOfWorkFactory
from application.webhooks.payloads import appointment_event
from domain.scheduling import (
    Appointment,
    AppointmentNotFound,
    Channel,
    IdempotencyConflict,
    Patient,
    PhoneNumber,
    Practice,
    offered_slot,
)
from domain.webhooks import EventSource, EventType


@dataclass(frozen=True, slots=True, kw_only=True)
class Idempotency:
    """A client's idempotency key; `scope` keeps one client's keys from another's."""

    scope: str
    key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BookAppointment:
    slot_id: str
    service_id: str
    patient_name: str
    patient_phone: str
    channel: Channel
    call_id: UUID | None = None
    idempotency: Idempotency | None = None
    source: EventSource | None = None
    """Who booked, for `appointment.booked`; by default the channel (phone or api)."""

    def fingerprint(self) -> str:
        body = "\x1f".join((self.slot_id, self.service_id, self.patient_name, self.patient_phone))
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Booked:
    appointment: Appointment
    replayed: bool = False
    """True when an earlier request with the same idempotency key made this booking."""


class BookAppointmentHandler:
    """Book one slot, in one unit of work.

    Rules: the phone is normalised to E.164 (national numbers in the practice's
    region); the slot must be on the practice's grid, offered by the provider for the
    service, in the future and within the horizon; the database refuses an overlap
    (`SlotTaken`). With an idempotency key, a repeat of the same request returns the
    first booking and a different request with the same key is an `IdempotencyConflict`.
    `appointment.booked` is written to the outbox in the booking's transaction (a
    replay writes nothing), and with `texts`, the patient's confirmation text and (if the
    practice sends them) a reminder due some hours before the appointment.
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

    async def __call__(self, command: BookAppointment) -> Booked:
        if command.idempotency is not None:
            replay = await self._replay(command, command.idempotency)
            if replay is not None:
                return replay
        now = self._clock.now()
        phone = PhoneNumber.parse(
            command.patient_phone, default_region=self._practice.default_region
        )
        patient = Patient(command.patient_name, phone)
        slot = offered_slot(
            self._practice, slot_id_value=command.slot_id, service_id=command.service_id, now=now
        )
        appointment = Appointment.book(
            patient=patient, slot=slot, channel=command.channel, now=now, call_id=command.call_id
        )
        try:
            async with self._uow() as uow:
                await uow.appointments.add(appointment)
                if command.idempotency is not None:
                    await uow.idempotency.add(
                        IdempotencyRecord(
                            scope=command.idempotency.scope,
                            key=command.idempotency.key,
                            fingerprint=command.fingerprint(),
                            appointment_id=appointment.id,
                            created_at=now,
                        )
                    )
                source = command.source or EventSource(command.channel.value)
                await uow.outbox.add(
                    appointment_event(
                        EventType.APPOINTMENT_BOOKED, appointment, source=source, now=now
                    )
                )
                if self._texts is not None:
                    await uow.outbox.add_text(self._texts.booked(appointment, now))
                    reminder = self._texts.reminder(appointment, now)
                    if reminder is not None:
                        await uow.outbox.add_text(reminder)
                await uow.commit()
        except DuplicateIdempotencyKey:
            assert command.idempotency is not None
            replay = await self._replay(command, command.idempotency)
            if replay is None:  # pragma: no cover - the winner's record vanished
                raise
            return replay
        return Booked(appointment)

    async def _replay(self, command: BookAppointment, idem: Idempotency) -> Booked | None:
        async with self._uow() as uow:
            record = await uow.idempotency.get(idem.scope, idem.key)
            if record is None:
                return None
            if record.fingerprint != command.fingerprint():
                raise IdempotencyConflict()
            appointment = await uow.appointments.get(record.appointment_id)
        if appointment is None:  # pragma: no cover - appointments are never deleted
            raise AppointmentNotFound()
        return Booked(appointment, replayed=True)
