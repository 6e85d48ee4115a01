"""Request and response bodies of API v1 (msgspec), and their mapping from the domain.

Instants are rendered in UTC (`Z`); `local_start` repeats the start in the practice's
time zone for people reading the payload.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Meta

from domain.scheduling import Appointment, AppointmentStatus, Channel, Practice, Slot, Weekday

SLOT_ID_EXAMPLE = "dr-lee@2026-11-26T14:00Z"

SlotId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=100,
        description="A slot id from GET /api/v1/slots.",
        examples=[SLOT_ID_EXAMPLE],
    ),
]
ServiceId = Annotated[str, Meta(min_length=1, max_length=64, examples=["cleaning"])]
PatientName = Annotated[str, Meta(min_length=1, max_length=120, examples=["Ada Lovelace"])]
PatientPhone = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=32,
        examples=["+14155550123"],
        description="E.164, or a national number in the practice's region.",
    ),
]


Utc = Annotated[datetime, Meta(examples=["2026-11-26T14:00:00Z"], description="UTC")]
Local = Annotated[
    datetime,
    Meta(examples=["2026-11-26T09:00:00-05:00"], description="The same instant, practice-local"),
]


class BookAppointmentBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    slot_id: SlotId
    service: ServiceId
    patient_name: PatientName
    patient_phone: PatientPhone


class RescheduleBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    slot_id: SlotId


class AppointmentOut(msgspec.Struct, frozen=True):
    id: Annotated[UUID, Meta(examples=["5f0c6f1e-8a1b-4c1e-9f3a-2d7e4b9c0a11"])]
    status: AppointmentStatus
    channel: Channel
    service_id: Annotated[str, Meta(examples=["cleaning"])]
    provider_id: Annotated[str, Meta(examples=["dr-lee"])]
    slot_id: Annotated[str, Meta(examples=[SLOT_ID_EXAMPLE])]
    start: Utc
    end: Utc
    local_start: Local
    patient_name: Annotated[str, Meta(examples=["Ada Lovelace"])]
    patient_phone: Annotated[str, Meta(examples=["+14155550123"], description="E.164")]
    created_at: Utc
    updated_at: Utc
    cancelled_at: Utc | None
    call_id: Annotated[
        UUID | None, Meta(description="The call that booked it (`GET /api/v1/calls/{id}`)")
    ]
    call_sid: Annotated[
        str | None,
        Meta(
            description="Deprecated: the carrier's reference of the call that booked it",
            extra_json_schema={"deprecated": True},
        ),
    ]

    @classmethod
    def of(
        cls, appointment: Appointment, zone: ZoneInfo, *, call_sid: str | None = None
    ) -> AppointmentOut:
        slot = appointment.slot
        return cls(
            id=appointment.id,
            status=appointment.status,
            channel=appointment.channel,
            service_id=slot.service_id,
            provider_id=slot.provider_id,
            slot_id=slot.id,
            start=_utc(slot.start),
            end=_utc(slot.end),
            local_start=slot.start.astimezone(zone),
            patient_name=appointment.patient.name,
            patient_phone=appointment.patient.phone.e164,
            created_at=_utc(appointment.created_at),
            updated_at=_utc(appointment.updated_at),
            cancelled_at=_utc(appointment.cancelled_at) if appointment.cancelled_at else None,
            call_id=appointment.call_id,
            call_sid=call_sid,
        )


class AppointmentPage(msgspec.Struct, frozen=True):
    items: list[AppointmentOut]
    total: Annotated[int, Meta(ge=0)]
    limit: int
    offset: int


class SlotOut(msgspec.Struct, frozen=True):
    id: Annotated[str, Meta(examples=[SLOT_ID_EXAMPLE], description="Stable: provider@start")]
    provider_id: Annotated[str, Meta(examples=["dr-lee"])]
    service_id: Annotated[str, Meta(examples=["cleaning"])]
    start: Utc
    end: Utc
    local_start: Local

    @classmethod
    def of(cls, slot: Slot, zone: ZoneInfo) -> SlotOut:
        return cls(
            id=slot.id,
            provider_id=slot.provider_id,
            service_id=slot.service_id,
            start=_utc(slot.start),
            end=_utc(slot.end),
            local_start=slot.start.astimezone(zone),
        )


class SlotList(msgspec.Struct, frozen=True):
    items: list[SlotOut]


WallClock = Annotated[
    str, Meta(pattern=r"^[0-2][0-9]:[0-5][0-9]$", examples=["09:00"], description="HH:MM, local")
]


class OpenHours(msgspec.Struct, frozen=True):
    opens: WallClock
    closes: WallClock

    @classmethod
    def of(cls, opens: time, closes: time) -> OpenHours:
        return cls(opens.strftime("%H:%M"), closes.strftime("%H:%M"))


class ServiceOut(msgspec.Struct, frozen=True):
    id: str
    name: str
    duration_minutes: int


class ProviderOut(msgspec.Struct, frozen=True):
    id: str
    name: str
    title: str
    services: list[str]


class PracticeOut(msgspec.Struct, frozen=True):
    name: str
    time_zone: str
    hours: dict[str, list[OpenHours]]
    """Keyed by lower-case weekday name; a closed day has an empty list."""
    closures: list[date]
    booking_horizon_days: int
    min_notice_hours: float
    """Slots starting sooner than this are neither listed nor bookable."""
    providers: list[ProviderOut]
    services: list[ServiceOut]

    @classmethod
    def of(cls, practice: Practice) -> PracticeOut:
        return cls(
            name=practice.name,
            time_zone=practice.time_zone.key,
            hours={
                day.name.lower(): [
                    OpenHours.of(i.opens, i.closes) for i in practice.hours.get(day, ())
                ]
                for day in Weekday
            },
            closures=sorted(practice.closures),
            booking_horizon_days=practice.booking_horizon.days,
            min_notice_hours=practice.min_notice.total_seconds() / 3600,
            providers=[
                ProviderOut(p.id, p.name, p.title, sorted(p.service_ids))
                for p in practice.providers.values()
            ],
            services=[
                ServiceOut(s.id, s.name, int(s.duration.total_seconds() // 60))
                for s in practice.services.values()
            ],
        )


class Health(msgspec.Struct, frozen=True):
    status: str


class Readiness(msgspec.Struct, frozen=True):
    status: str
    checks: dict[str, str]
    """`ok` per check, or why it failed."""


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
