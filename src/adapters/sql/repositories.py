"""Repositories: domain objects in, domain objects out; rows never leave this module."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Executable, Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.errors import translated_errors
from adapters.sql.paging import fetch_page
from adapters.sql.tables import appointments, idempotency_keys
from application.ports import AppointmentQuery, IdempotencyRecord, Page
from domain.scheduling import (
    Appointment,
    AppointmentStatus,
    Busy,
    Channel,
    Patient,
    PhoneNumber,
    Slot,
)


class PendingWrites:
    """Writes queued by the repositories of one unit of work.

    They reach the database on `flush`: before any read in the same unit of work, and
    at commit. Idempotency keys go first, so of two requests repeating one key, the
    second collides on the key (and is replayed) rather than on the slot.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._keys: list[Executable] = []
        self._rows: list[Executable] = []

    def add(self, statement: Executable, *, idempotency_key: bool = False) -> None:
        (self._keys if idempotency_key else self._rows).append(statement)

    async def flush(self) -> None:
        """Execute what is queued; constraint violations surface here, translated."""
        async with translated_errors():
            while self._keys or self._rows:
                statement = (self._keys or self._rows).pop(0)
                await self._session.execute(statement)


def _appointment_values(appointment: Appointment) -> dict[str, Any]:
    return {
        "patient_name": appointment.patient.name,
        "patient_phone": appointment.patient.phone.e164,
        "provider_id": appointment.slot.provider_id,
        "service_id": appointment.slot.service_id,
        "starts_at": appointment.slot.start,
        "ends_at": appointment.slot.end,
        "status": appointment.status.value,
        "channel": appointment.channel.value,
        "call_id": appointment.call_id,
        "created_at": appointment.created_at,
        "updated_at": appointment.updated_at,
        "cancelled_at": appointment.cancelled_at,
    }


def _appointment(row: Row[Any]) -> Appointment:
    return Appointment(
        id=row.id,
        patient=Patient(row.patient_name, PhoneNumber(row.patient_phone)),
        slot=Slot(row.provider_id, row.service_id, row.starts_at, row.ends_at),
        status=AppointmentStatus(row.status),
        channel=Channel(row.channel),
        created_at=row.created_at,
        updated_at=row.updated_at,
        cancelled_at=row.cancelled_at,
        call_id=row.call_id,
    )


class SqlAlchemyAppointmentRepository:
    def __init__(self, session: AsyncSession, writes: PendingWrites) -> None:
        self._session, self._writes = session, writes

    def _serialize_provider(self, provider_id: str) -> None:
        """On Postgres, take a transaction lock per provider before writing a booking.

        Without it, two transactions inserting overlapping rows can each find the
        other's uncommitted row under the exclusion constraint and wait on each other
        until the deadlock detector aborts one (after `deadlock_timeout`, 1 s): under a
        burst of bookings for one slot those waits chain and starve the pool. With it,
        the second writer waits for the first to finish, then meets a committed row and
        fails at once with the constraint's own error.
        """
        if self._session.get_bind().dialect.name == "postgresql":
            self._writes.add(select(func.pg_advisory_xact_lock(func.hashtext(provider_id))))

    async def add(self, appointment: Appointment) -> None:
        self._serialize_provider(appointment.slot.provider_id)
        self._writes.add(
            insert(appointments).values(id=appointment.id, **_appointment_values(appointment))
        )

    async def update(self, appointment: Appointment) -> None:
        self._serialize_provider(appointment.slot.provider_id)
        self._writes.add(
            update(appointments)
            .where(appointments.c.id == appointment.id)
            .values(**_appointment_values(appointment))
        )

    async def get(self, appointment_id: UUID, *, for_update: bool = False) -> Appointment | None:
        """`for_update` is `SELECT ... FOR UPDATE` on Postgres; SQLite's transactions
        already hold the write lock (`BEGIN IMMEDIATE`), so there it changes nothing."""
        statement = select(appointments).where(appointments.c.id == appointment_id)
        if for_update:
            statement = statement.with_for_update()
        await self._writes.flush()
        async with translated_errors():
            row = (await self._session.execute(statement)).first()
        return _appointment(row) if row is not None else None

    async def busy_between(
        self, provider_ids: Sequence[str], start: datetime, end: datetime
    ) -> list[Busy]:
        if not provider_ids:
            return []
        statement = (
            select(appointments.c.provider_id, appointments.c.starts_at, appointments.c.ends_at)
            .where(
                appointments.c.status == AppointmentStatus.BOOKED.value,
                appointments.c.provider_id.in_(list(provider_ids)),
                appointments.c.starts_at < end,
                appointments.c.ends_at > start,
            )
            .order_by(appointments.c.starts_at)
        )
        await self._writes.flush()
        async with translated_errors():
            rows = (await self._session.execute(statement)).all()
        return [Busy(row.provider_id, row.starts_at, row.ends_at) for row in rows]

    async def find(self, query: AppointmentQuery) -> Page[Appointment]:
        conditions = []
        if query.phone is not None:
            conditions.append(appointments.c.patient_phone == query.phone.e164)
        if query.status is not None:
            conditions.append(appointments.c.status == query.status.value)
        if query.provider_id is not None:
            conditions.append(appointments.c.provider_id == query.provider_id)
        if query.service_id is not None:
            conditions.append(appointments.c.service_id == query.service_id)
        if query.starts_from is not None:
            conditions.append(appointments.c.starts_at >= query.starts_from)
        if query.starts_before is not None:
            conditions.append(appointments.c.starts_at < query.starts_before)
        await self._writes.flush()
        return await fetch_page(
            self._session,
            appointments,
            conditions,
            (appointments.c.starts_at, appointments.c.id),
            limit=query.limit,
            offset=query.offset,
            to_domain=_appointment,
        )

    async def booked_during_calls(self, call_refs: Sequence[str]) -> dict[str, list[Appointment]]:
        ids = [UUID(ref) for ref in call_refs if _is_uuid(ref)]
        if not ids:
            return {}
        statement = (
            select(appointments)
            .where(appointments.c.call_id.in_(ids))
            .order_by(appointments.c.starts_at, appointments.c.id)
        )
        await self._writes.flush()
        async with translated_errors():
            rows = (await self._session.execute(statement)).all()
        found: dict[str, list[Appointment]] = {}
        for row in rows:
            found.setdefault(str(row.call_id), []).append(_appointment(row))
        return found


class SqlAlchemyIdempotencyRecords:
    def __init__(self, session: AsyncSession, writes: PendingWrites) -> None:
        self._session, self._writes = session, writes

    async def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        statement = select(idempotency_keys).where(
            idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
        )
        await self._writes.flush()
        async with translated_errors():
            row = (await self._session.execute(statement)).first()
        if row is None:
            return None
        return IdempotencyRecord(
            scope=row.scope,
            key=row.key,
            fingerprint=row.fingerprint,
            appointment_id=row.appointment_id,
            created_at=row.created_at,
        )

    async def add(self, record: IdempotencyRecord) -> None:
        self._writes.add(
            insert(idempotency_keys).values(
                scope=record.scope,
                key=record.key,
                fingerprint=record.fingerprint,
                appointment_id=record.appointment_id,
                created_at=record.created_at,
            ),
            idempotency_key=True,
        )


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True
