"""The unit of work and the repositories it hands out."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Generic, Protocol, Self, TypeVar
from uuid import UUID

from application.ports.notifier import TextMessage
from domain.calls import Call, CallStatus
from domain.scheduling import Appointment, AppointmentStatus, Busy, PhoneNumber
from domain.staff import StaffAccount, StaffSession
from domain.webhooks import OutboxEvent

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class AppointmentQuery:
    """Filters for listing appointments; every filter is optional and they combine with AND.

    `starts_from` is inclusive, `starts_before` exclusive; results are ordered by start time.
    """

    phone: PhoneNumber | None = None
    status: AppointmentStatus | None = None
    provider_id: str | None = None
    service_id: str | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class IdempotencyRecord:
    """The first result of a request made with an idempotency key.

    `scope` separates clients (one per API key); `fingerprint` identifies the request body.
    """

    scope: str
    key: str
    fingerprint: str
    appointment_id: UUID
    created_at: datetime


class AppointmentRepository(Protocol):
    async def add(self, appointment: Appointment) -> None: ...

    async def update(self, appointment: Appointment) -> None:
        """Store the appointment's new state (status, slot, timestamps)."""
        ...

    async def get(self, appointment_id: UUID, *, for_update: bool = False) -> Appointment | None:
        """The appointment, or None. `for_update` locks it until the unit of work ends."""
        ...

    async def busy_between(
        self, provider_ids: Sequence[str], start: datetime, end: datetime
    ) -> list[Busy]:
        """Booked time of these providers overlapping [start, end)."""
        ...

    async def find(self, query: AppointmentQuery) -> Page[Appointment]: ...

    async def booked_during_calls(self, call_refs: Sequence[str]) -> dict[str, list[Appointment]]:
        """Appointments made during these calls, keyed by the call's reference, by start."""
        ...


class IdempotencyRecords(Protocol):
    async def get(self, scope: str, key: str) -> IdempotencyRecord | None: ...

    async def add(self, record: IdempotencyRecord) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CallQuery:
    """Filters for listing calls, newest first; `started_from` inclusive, `started_before` not."""

    status: CallStatus | None = None
    from_number: str | None = None
    started_from: datetime | None = None
    started_before: datetime | None = None
    limit: int = 50
    offset: int = 0


class CallRepository(Protocol):
    async def add(self, call: Call) -> None: ...

    async def get(self, call_id: UUID, *, for_update: bool = False) -> Call | None:
        """The call with its turns and tool invocations, or None."""
        ...

    async def get_by_carrier(
        self, carrier: str, carrier_call_id: str, *, for_update: bool = False
    ) -> Call | None:
        """The call `carrier` knows as `carrier_call_id`, as `get` returns it, or None."""
        ...

    async def carrier_references(self, call_ids: Collection[UUID]) -> Mapping[UUID, str]:
        """`carrier_call_id` of each of these calls that exists."""
        ...

    async def update(self, call: Call) -> None:
        """Store the call's state with all its turns and tool invocations."""
        ...

    async def find(self, query: CallQuery) -> Page[Call]:
        """A page of calls without their turns and tool invocations (empty lists)."""
        ...


class StaffAccounts(Protocol):
    async def add(self, account: StaffAccount) -> None:
        """`StaffAccountExists` (at commit at the latest) when the email is taken."""
        ...

    async def get(self, email: str) -> StaffAccount | None: ...

    async def all(self) -> list[StaffAccount]:
        """Every account, by email."""
        ...

    async def remove(self, email: str) -> bool:
        """Delete the account and its sessions; False when there was none."""
        ...


class StaffSessions(Protocol):
    async def add(self, session: StaffSession) -> None: ...

    async def get(self, token_digest: str) -> StaffSession | None: ...

    async def touch(self, session: StaffSession) -> None:
        """Store the session's `last_seen_at`."""
        ...

    async def remove(self, token_digest: str) -> None: ...


class LoginFailures(Protocol):
    """Failed sign-ins by subject (a digest naming an account or a client address)."""

    async def add(self, subject: str, at: datetime) -> None: ...

    async def since(self, subjects: Sequence[str], since: datetime) -> dict[str, list[datetime]]:
        """Each subject's failures at or after `since` (subjects without any are absent)."""
        ...

    async def forget(self, subject: str, *, before: datetime | None = None) -> None:
        """Drop the subject's failures (all of them, or those before `before`)."""


class Outbox(Protocol):
    """Events written in the unit of work whose change they report: committed with it,
    or not at all (`uow.outbox.add(OutboxEvent(...))`)."""

    async def add(self, event: OutboxEvent) -> None: ...

    async def add_text(self, message: TextMessage) -> None:
        """A text to a patient, sent after commit (or at its `send_at`) by the text
        dispatcher."""
        ...

    async def void_reminders(self, appointment_id: UUID) -> None:
        """Reminders of this appointment not yet sent will not be (it was cancelled or
        moved); they stay on record as `voided`."""
        ...


class TextOptOuts(Protocol):
    """Numbers (E.164) that asked for no more texts."""

    async def opt_out(self, phone: PhoneNumber, at: datetime) -> None:
        """Idempotent: a number already opted out keeps its first time."""
        ...

    async def opt_in(self, phone: PhoneNumber) -> None: ...

    async def is_opted_out(self, phone: PhoneNumber) -> bool: ...


class UnitOfWork(Protocol):
    """One transaction. Rolls back on exit unless `commit` was called.

    Constraint violations become domain errors — the no-overlap rule `SlotTaken`, a
    duplicate idempotency key `DuplicateIdempotencyKey` — at `commit`, or at the first
    read after the write that broke the rule (an adapter may send writes early).
    Losing the database raises `StorageUnavailable`, whichever method noticed.
    """

    appointments: AppointmentRepository
    idempotency: IdempotencyRecords
    calls: CallRepository
    staff: StaffAccounts
    staff_sessions: StaffSessions
    login_failures: LoginFailures
    outbox: Outbox
    text_opt_outs: TextOptOuts

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
