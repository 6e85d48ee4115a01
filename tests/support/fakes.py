"""In-memory fakes of the application's ports: a dict-backed unit of work, a database probe.

The store keeps committed state only; a unit of work stages its writes and applies
them at `commit`, checking the same invariants the database enforces (no overlapping
booked appointments of one provider, one record per idempotency key).
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Self
from uuid import UUID

from application.errors import DuplicateIdempotencyKey
from application.ports import (
    AppointmentQuery,
    AppointmentRepository,
    CallQuery,
    CallRepository,
    IdempotencyRecord,
    IdempotencyRecords,
    Outbox,
    Page,
    TextMessage,
    UnitOfWorkFactory,
)
from domain.calls import Call
from domain.scheduling import Appointment, AppointmentStatus, Busy, SlotTaken
from domain.webhooks import OutboxEvent


@dataclass
class InMemoryStore:
    appointments: dict[UUID, Appointment] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    calls: dict[UUID, Call] = field(default_factory=dict)
    calls: dict[str, Call] = field(default_factory=dict)
    events: list[OutboxEvent] = field(default_factory=list)
    texts: list[TextMessage] = field(default_factory=list)
    voided_reminders: list[UUID] = field(default_factory=list)


class FakeAppointmentRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self.staged: dict[UUID, Appointment] = {}

    def _visible(self) -> dict[UUID, Appointment]:
        return {**self._store.appointments, **self.staged}

    async def add(self, appointment: Appointment) -> None:
        self.staged[appointment.id] = copy.deepcopy(appointment)

    async def update(self, appointment: Appointment) -> None:
        self.staged[appointment.id] = copy.deepcopy(appointment)

    async def get(self, appointment_id: UUID, *, for_update: bool = False) -> Appointment | None:
        found = self._visible().get(appointment_id)
        return copy.deepcopy(found) if found is not None else None

    async def busy_between(
        self, provider_ids: Sequence[str], start: datetime, end: datetime
    ) -> list[Busy]:
        return [
            Busy(a.slot.provider_id, a.slot.start, a.slot.end)
            for a in self._visible().values()
            if a.status is AppointmentStatus.BOOKED
            and a.slot.provider_id in provider_ids
            and a.slot.overlaps(start, end)
        ]

    async def find(self, query: AppointmentQuery) -> Page[Appointment]:
        matches = sorted(
            (
                a
                for a in self._visible().values()
                if (query.phone is None or a.patient.phone == query.phone)
                and (query.status is None or a.status is query.status)
                and (query.provider_id is None or a.slot.provider_id == query.provider_id)
                and (query.service_id is None or a.slot.service_id == query.service_id)
                and (query.starts_from is None or a.slot.start >= query.starts_from)
                and (query.starts_before is None or a.slot.start < query.starts_before)
            ),
            key=lambda a: (a.slot.start, str(a.id)),
        )
        window = matches[query.offset : query.offset + query.limit]
        return Page(items=[copy.deepcopy(a) for a in window], total=len(matches))


class FakeIdempotencyRecords:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self.staged: dict[tuple[str, str], IdempotencyRecord] = {}

    async def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        return self.staged.get((scope, key)) or self._store.idempotency.get((scope, key))

    async def add(self, record: IdempotencyRecord) -> None:
        self.staged[(record.scope, record.key)] = record


class FakeCallRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self.staged: dict[UUID, Call] = {}

    async def add(self, call: Call) -> None:
        self.staged[call.id] = copy.deepcopy(call)

    async def get(self, call_id: UUID, *, for_update: bool = False) -> Call | None:
        found = self.staged.get(call_id) or self._store.calls.get(call_id)
        return copy.deepcopy(found) if found is not None else None

    async def get_by_carrier(
        self, carrier: str, carrier_call_id: str, *, for_update: bool = False
    ) -> Call | None:
        for call in {**self._store.calls, **self.staged}.values():
            if (call.carrier, call.carrier_call_id) == (carrier, carrier_call_id):
                return copy.deepcopy(call)
        return None

    async def carrier_references(self, call_ids: Collection[UUID]) -> Mapping[UUID, str]:
        known = {**self._store.calls, **self.staged}
        return {i: known[i].carrier_call_id for i in call_ids if i in known}

    async def update(self, call: Call) -> None:
        self.staged[call.id] = copy.deepcopy(call)

    async def find(self, query: CallQuery) -> Page[Call]:
        matches = sorted(
            (
                c
                for c in {**self._store.calls, **self.staged}.values()
                if (query.status is None or c.status is query.status)
                and (query.from_number is None or c.from_number == query.from_number)
                and (query.started_from is None or c.started_at >= query.started_from)
                and (query.started_before is None or c.started_at < query.started_before)
            ),
            key=lambda c: c.started_at,
            reverse=True,
        )
        window = [
            replace(copy.deepcopy(c), turns=[], tool_invocations=[])
            for c in matches[query.offset : query.offset + query.limit]
        ]
        return Page(items=window, total=len(matches))


class FakeOutbox:
    def __init__(self) -> None:
        self.staged: list[OutboxEvent] = []
        self.staged_texts: list[TextMessage] = []
        self.staged_voids: list[UUID] = []

    async def add(self, event: OutboxEvent) -> None:
        self.staged.append(event)

    async def add_text(self, message: TextMessage) -> None:
        self.staged_texts.append(message)

    async def void_reminders(self, appointment_id: UUID) -> None:
        self.staged_voids.append(appointment_id)


class FakeUnitOfWork:
    """`application.ports.UnitOfWork` in memory; drops staged writes unless committed."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self._appointments = FakeAppointmentRepository(store)
        self._idempotency = FakeIdempotencyRecords(store)
        self._calls = FakeCallRepository(store)
        self.appointments: AppointmentRepository = self._appointments
        self.idempotency: IdempotencyRecords = self._idempotency
        self.calls: CallRepository = self._calls
        self._outbox = FakeOutbox()
        self.outbox: Outbox = self._outbox
        self.committed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._discard()

    def _discard(self) -> None:
        self._appointments.staged.clear()
        self._idempotency.staged.clear()
        self._calls.staged.clear()
        self._outbox.staged.clear()
        self._outbox.staged_texts.clear()
        self._outbox.staged_voids.clear()

    async def commit(self) -> None:
        merged = {**self._store.appointments, **self._appointments.staged}
        for changed in self._appointments.staged.values():
            if changed.status is not AppointmentStatus.BOOKED:
                continue
            for other in merged.values():
                if (
                    other.id != changed.id
                    and other.status is AppointmentStatus.BOOKED
                    and other.slot.provider_id == changed.slot.provider_id
                    and other.slot.overlaps(changed.slot.start, changed.slot.end)
                ):
                    raise SlotTaken()
        if any(key in self._store.idempotency for key in self._idempotency.staged):
            raise DuplicateIdempotencyKey()
        self._store.appointments.update(self._appointments.staged)
        self._store.idempotency.update(self._idempotency.staged)
        self._store.calls.update(self._calls.staged)
        self._store.events.extend(self._outbox.staged)
        self._store.texts.extend(self._outbox.staged_texts)
        self._store.voided_reminders.extend(self._outbox.staged_voids)
        self._discard()
        self.committed = True


class FakeDatabase:
    """Stands in for `adapters.sql.Database` where only readiness and shutdown touch it."""

    def __init__(self, *, reachable: bool = True, at_head: bool = True) -> None:
        self.reachable, self.at_head, self.disposed = reachable, at_head, False

    async def ping(self) -> bool:
        return self.reachable

    async def warm_up(self) -> int:
        return 0

    async def migrations_at_head(self) -> bool:
        return self.at_head

    async def schema_status(self) -> str:
        return "ok" if self.at_head else "behind"

    async def dispose(self) -> None:
        self.disposed = True


def fake_unit_of_work_factory(store: InMemoryStore) -> UnitOfWorkFactory:
    """A `UnitOfWorkFactory` over `store`; typed so mypy checks the fake against the port."""
    return lambda: FakeUnitOfWork(store)
