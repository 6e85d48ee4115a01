"""Appointments: the one mutable entity of scheduling, with its transitions as methods."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from domain.scheduling.errors import AppointmentNotChangeable, SlotInPast
from domain.scheduling.patient import Patient
from domain.scheduling.slots import Slot


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class Channel(StrEnum):
    """How an appointment was made."""

    PHONE = "phone"
    API = "api"


@dataclass(slots=True, eq=False)
class Appointment:
    """A booking of a slot for a patient. Identity is `id`; compare by it."""

    id: UUID
    patient: Patient
    slot: Slot
    status: AppointmentStatus
    channel: Channel
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None = None
    call_id: UUID | None = None

    @classmethod
    def book(
        cls,
        *,
        patient: Patient,
        slot: Slot,
        channel: Channel,
        now: datetime,
        call_id: UUID | None = None,
    ) -> Appointment:
        """A new booking. The slot must already be checked by `offered_slot`."""
        if slot.start <= now:
            raise SlotInPast("That time has already passed.")
        return cls(
            id=uuid4(),
            patient=patient,
            slot=slot,
            status=AppointmentStatus.BOOKED,
            channel=channel,
            created_at=now,
            updated_at=now,
            call_id=call_id,
        )

    def _ensure_changeable(self, now: datetime, verb: str) -> None:
        if self.status is not AppointmentStatus.BOOKED:
            raise AppointmentNotChangeable(
                f"That appointment is already cancelled; I can't {verb} it."
            )
        if self.slot.start <= now:
            raise AppointmentNotChangeable(
                f"That appointment has already started; I can't {verb} it."
            )

    def cancel(self, now: datetime) -> None:
        """Only a booked appointment that has not started can be cancelled."""
        self._ensure_changeable(now, "cancel")
        self.status = AppointmentStatus.CANCELLED
        self.cancelled_at = now
        self.updated_at = now

    def reschedule(self, slot: Slot, now: datetime) -> None:
        """Move to `slot` (already checked by `offered_slot`); the old time is released.

        The service stays the same: a different service is a new booking.
        """
        self._ensure_changeable(now, "move")
        if slot.service_id != self.slot.service_id:
            raise ValueError("reschedule keeps the service")
        if slot.start <= now:
            raise SlotInPast("That time has already passed.")
        self.slot = slot
        self.updated_at = now
