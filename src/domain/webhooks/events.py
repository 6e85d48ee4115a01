"""The event catalogue and the outbox record of one event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4


class EventType(StrEnum):
    APPOINTMENT_BOOKED = "appointment.booked"
    APPOINTMENT_RESCHEDULED = "appointment.rescheduled"
    APPOINTMENT_CANCELLED = "appointment.cancelled"
    CALL_COMPLETED = "call.completed"
    CALL_TURNED_AWAY = "call.turned_away"


class EventSource(StrEnum):
    """Where a change came from: the phone agent, the REST API, or the staff console."""

    PHONE = "phone"
    API = "api"
    CONSOLE = "console"


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxEvent:
    """One change to tell integrators about, written in the transaction that made it.

    `data` holds JSON values only (str, int, float, bool, None, lists, dicts): it is
    serialised once, when stored, so every retry sends the same bytes. `id` is the
    `webhook-id` integrators deduplicate on. `subject_id` is the call or appointment the
    event is about, so staff can see an object's deliveries without parsing bodies.
    """

    type: EventType
    occurred_at: datetime
    data: Mapping[str, Any]
    subject_id: UUID | None = None
    id: UUID = field(default_factory=uuid4)

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            raise ValueError("an event's time must be aware")
