"""Read model of webhook deliveries and texts by what they are about (the console)."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from sqlalchemy import select

from adapters.sql.database import Database
from adapters.sql.errors import translated_errors
from adapters.sql.tables import (
    text_messages,
    webhook_attempts,
    webhook_deliveries,
    webhook_events,
    webhook_subscriptions,
)
from application.ports.outbound_log import DeliveryRecord, TextRecord

MAX_ROWS = 200


class SqlAlchemyOutboundLog:
    """`application.ports.OutboundLog`: indexed by `text_messages.appointment_id` and
    `webhook_events.subject_id`; at most `MAX_ROWS` of each."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def texts_about(self, appointment_ids: Collection[UUID]) -> list[TextRecord]:
        t = text_messages
        statement = (
            select(t)
            .where(t.c.appointment_id.in_(list(appointment_ids)))
            .order_by(t.c.created_at, t.c.kind, t.c.id)
            .limit(MAX_ROWS)
        )
        async with translated_errors(), self._database.session() as session:
            rows = (await session.execute(statement)).all()
        return [
            TextRecord(
                id=row.id,
                appointment_id=row.appointment_id,
                kind=row.kind,
                status=row.status,
                to=row.to_phone,
                created_at=row.created_at,
                due_at=row.next_attempt_at if row.status == "pending" else None,
                failed_attempts=row.failed_attempts,
                last_error=row.last_error,
            )
            for row in rows
        ]

    async def deliveries_about(self, subject_ids: Collection[UUID]) -> list[DeliveryRecord]:
        e, d, s, a = webhook_events, webhook_deliveries, webhook_subscriptions, webhook_attempts
        last_code = (
            select(a.c.status_code)
            .where(a.c.delivery_id == d.c.id)
            .order_by(a.c.seq.desc())
            .limit(1)
            .correlate(d)
            .scalar_subquery()
        )
        statement = (
            select(
                e.c.id.label("event_id"),
                e.c.type,
                e.c.occurred_at,
                s.c.url,
                d.c.status,
                d.c.failed_attempts,
                last_code.label("last_status_code"),
            )
            .select_from(
                e.outerjoin(d, d.c.event_id == e.c.id).outerjoin(s, s.c.id == d.c.subscription_id)
            )
            .where(e.c.subject_id.in_(list(subject_ids)))
            .order_by(e.c.occurred_at, e.c.id, s.c.url)
            .limit(MAX_ROWS)
        )
        async with translated_errors(), self._database.session() as session:
            rows = (await session.execute(statement)).all()
        return [
            DeliveryRecord(
                event_id=row.event_id,
                event_type=row.type,
                occurred_at=row.occurred_at,
                destination=row.url,
                status=row.status,
                failed_attempts=row.failed_attempts or 0,
                last_status_code=row.last_status_code,
            )
            for row in rows
        ]
