"""The outbox: events and texts inserted in the unit of work's own transaction."""

from __future__ import annotations

import json
from datetime import UTC
from uuid import UUID

from sqlalchemy import insert, update

from adapters.sql.repositories import PendingWrites
from adapters.sql.tables import text_messages, webhook_events
from application.ports import TextKind, TextMessage
from domain.webhooks import OutboxEvent


def event_body(event: OutboxEvent) -> str:
    """The JSON every attempt sends: `{"type", "timestamp", "data"}`, compact."""
    timestamp = event.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {"type": event.type.value, "timestamp": timestamp, "data": event.data},
        separators=(",", ":"),
        ensure_ascii=False,
    )


class SqlAlchemyOutbox:
    """`application.ports.Outbox`: queued with the unit of work's other writes, so the
    event commits with the change it reports, or not at all."""

    def __init__(self, writes: PendingWrites) -> None:
        self._writes = writes
        self.added = 0

    async def add(self, event: OutboxEvent) -> None:
        self._writes.add(
            insert(webhook_events).values(
                id=event.id,
                type=event.type.value,
                occurred_at=event.occurred_at,
                body=event_body(event),
                fanned_out=False,
                subject_id=event.subject_id,
            )
        )
        self.added += 1

    async def add_text(self, message: TextMessage) -> None:
        self._writes.add(
            insert(text_messages).values(
                id=message.id,
                to_phone=message.to,
                body=message.body,
                status="pending",
                failed_attempts=0,
                next_attempt_at=message.send_at or message.created_at,
                created_at=message.created_at,
                kind=message.kind.value,
                appointment_id=message.appointment_id,
            )
        )
        self.added += 1

    async def void_reminders(self, appointment_id: UUID) -> None:
        self._writes.add(
            update(text_messages)
            .where(
                text_messages.c.appointment_id == appointment_id,
                text_messages.c.kind == TextKind.REMINDER.value,
                text_messages.c.status == "pending",
            )
            .values(status="voided", next_attempt_at=None, claim=None)
        )
