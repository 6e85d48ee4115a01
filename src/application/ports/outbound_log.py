"""What left (or will leave) the practice about a call or an appointment: webhook
deliveries and texts, for staff to read."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class TextRecord:
    """One text about an appointment. `status`: pending, sent, failed, skipped (the number
    opted out) or voided (a reminder whose appointment changed). `to` is kept out of
    reprs; show it masked."""

    id: UUID
    appointment_id: UUID
    kind: str
    status: str
    to: str = field(repr=False)
    created_at: datetime
    due_at: datetime | None
    """The next attempt (or, for a reminder not yet sent, when it goes); None when done."""
    failed_attempts: int
    last_error: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryRecord:
    """One webhook event about a subject, with one subscription's delivery of it (or
    none yet: `destination` None when no subscription has been given it)."""

    event_id: UUID
    event_type: str
    occurred_at: datetime
    destination: str | None
    status: str | None
    """pending, succeeded or failed; None with no delivery."""
    failed_attempts: int
    last_status_code: int | None


class OutboundLog(Protocol):
    async def texts_about(self, appointment_ids: Collection[UUID]) -> list[TextRecord]:
        """Texts about these appointments, oldest first."""
        ...

    async def deliveries_about(self, subject_ids: Collection[UUID]) -> list[DeliveryRecord]:
        """Webhook events about these calls or appointments with their deliveries,
        oldest first."""
        ...
