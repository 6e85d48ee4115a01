"""The webhook delivery queue in SQL: fan-out, leased claims, attempts, the delivery log.

Claims use `SELECT ... FOR UPDATE SKIP LOCKED` on Postgres, so dispatchers in several
processes or instances each take different rows; on SQLite every transaction holds the
write lock (`BEGIN IMMEDIATE`), which serialises claimers just as well. A claim is a
lease: the row's `next_attempt_at` moves past the lease and `claim` records who holds
it, so a dispatcher that dies mid-attempt loses the row to the next one when it lapses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.database import Database
from adapters.sql.errors import translated_errors
from adapters.sql.tables import webhook_attempts as attempts
from adapters.sql.tables import webhook_deliveries as deliveries
from adapters.sql.tables import webhook_events as events
from adapters.sql.tables import webhook_subscriptions as subscriptions
from adapters.sql.webhook_subscriptions import subscription_of, subscription_values
from application.ports import AttemptRecord, DueDelivery, Page
from domain.webhooks import Attempt, Delivery, DeliveryStatus, EventType

MAX_ERROR_LENGTH = 500
_SUBSCRIPTION_PREFIX = "s_"


class SqlAlchemyDeliveryQueue:
    """`application.ports.DeliveryQueue`."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def fan_out(self, limit: int) -> int:
        new_events = (
            select(events.c.id, events.c.type, events.c.occurred_at)
            .where(events.c.fanned_out.is_(False))
            .order_by(events.c.occurred_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        active = select(subscriptions).where(subscriptions.c.disabled_at.is_(None))
        async with translated_errors(), self._database.session() as session, session.begin():
            rows = (await session.execute(new_events)).all()
            if not rows:
                return 0
            subscribers = [subscription_of(r) for r in (await session.execute(active)).all()]
            values = [
                {
                    "id": uuid4(),
                    "event_id": row.id,
                    "subscription_id": subscription.id,
                    "status": DeliveryStatus.PENDING.value,
                    "failed_attempts": 0,
                    "next_attempt_at": row.occurred_at,
                    "claim": None,
                    "created_at": row.occurred_at,
                }
                for row in rows
                for subscription in subscribers
                if subscription.wants(EventType(row.type))
                and subscription.created_at <= row.occurred_at
            ]
            if values:
                await session.execute(insert(deliveries), values)
            await session.execute(
                update(events)
                .where(events.c.id.in_([row.id for row in rows]))
                .values(fanned_out=True)
            )
        return len(rows)

    async def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[DueDelivery]:
        statement = (
            select(
                deliveries.c.id,
                deliveries.c.failed_attempts,
                events.c.id.label("event_id"),
                events.c.occurred_at,
                events.c.body,
                *(c.label(_SUBSCRIPTION_PREFIX + c.name) for c in subscriptions.c),
            )
            .select_from(
                deliveries.join(events, deliveries.c.event_id == events.c.id).join(
                    subscriptions, deliveries.c.subscription_id == subscriptions.c.id
                )
            )
            .where(
                deliveries.c.status == DeliveryStatus.PENDING.value,
                deliveries.c.next_attempt_at <= now,
                subscriptions.c.disabled_at.is_(None),
            )
            .order_by(deliveries.c.next_attempt_at)
            .limit(limit)
            .with_for_update(of=deliveries, skip_locked=True)
        )
        claim = uuid4()
        async with translated_errors(), self._database.session() as session, session.begin():
            rows = (await session.execute(statement)).all()
            if rows:
                await session.execute(
                    update(deliveries)
                    .where(deliveries.c.id.in_([row.id for row in rows]))
                    .values(claim=claim, next_attempt_at=now + lease)
                )
        return [
            DueDelivery(
                delivery_id=row.id,
                claim=claim,
                event_id=row.event_id,
                occurred_at=row.occurred_at,
                body=row.body.encode(),
                failed_attempts=row.failed_attempts,
                subscription=subscription_of(row, _SUBSCRIPTION_PREFIX),
            )
            for row in rows
        ]

    async def record(self, due: DueDelivery, outcome: AttemptRecord) -> bool:
        attempt = outcome.attempt
        async with translated_errors(), self._database.session() as session, session.begin():
            result = await session.execute(
                update(deliveries)
                .where(deliveries.c.id == due.delivery_id, deliveries.c.claim == due.claim)
                .values(
                    status=outcome.status.value,
                    failed_attempts=outcome.failed_attempts,
                    next_attempt_at=outcome.next_attempt_at,
                    claim=None,
                )
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return False
            seq = (
                await session.execute(
                    select(func.coalesce(func.max(attempts.c.seq), 0) + 1).where(
                        attempts.c.delivery_id == due.delivery_id
                    )
                )
            ).scalar_one()
            await session.execute(
                insert(attempts).values(
                    delivery_id=due.delivery_id,
                    seq=seq,
                    at=attempt.at,
                    status_code=attempt.status_code,
                    error=attempt.error[:MAX_ERROR_LENGTH] if attempt.error else None,
                    latency_ms=attempt.latency_ms,
                    next_retry_at=attempt.next_retry_at,
                )
            )
            await _update_subscription(session, due.subscription.id, outcome)
        return True

    async def deliveries(self, subscription_id: UUID, *, limit: int, offset: int) -> Page[Delivery]:
        mine = deliveries.c.subscription_id == subscription_id
        count = select(func.count()).select_from(deliveries).where(mine)
        async with translated_errors(), self._database.session() as session, session.begin():
            total = (await session.execute(count)).scalar_one()
            items = await _load(session, mine, limit=limit, offset=offset)
        return Page(items=items, total=total)

    async def redeliver(
        self, subscription_id: UUID, delivery_id: UUID, now: datetime
    ) -> Delivery | None:
        this = (deliveries.c.id == delivery_id) & (deliveries.c.subscription_id == subscription_id)
        async with translated_errors(), self._database.session() as session, session.begin():
            await session.execute(
                update(deliveries)
                .where(this)
                .values(
                    status=DeliveryStatus.PENDING.value,
                    failed_attempts=0,
                    next_attempt_at=now,
                    claim=None,
                )
            )
            found = await _load(session, this, limit=1, offset=0)
        return found[0] if found else None


async def _update_subscription(
    session: AsyncSession, subscription_id: UUID, outcome: AttemptRecord
) -> None:
    """Apply the attempt's effect on its subscription under a row lock; write if changed."""
    statement = select(subscriptions).where(subscriptions.c.id == subscription_id)
    row = (await session.execute(statement.with_for_update())).first()
    if row is None:
        return
    subscription = subscription_of(row)
    before = subscription_values(subscription)
    outcome.update_subscription(subscription)
    after = subscription_values(subscription)
    if after != before:
        await session.execute(
            update(subscriptions).where(subscriptions.c.id == subscription_id).values(**after)
        )


async def _load(
    session: AsyncSession, where: ColumnElement[bool], *, limit: int, offset: int
) -> list[Delivery]:
    """Deliveries matching `where`, newest first, with their attempts."""
    page = (
        select(deliveries, events.c.type)
        .join(events, deliveries.c.event_id == events.c.id)
        .where(where)
        .order_by(deliveries.c.created_at.desc(), deliveries.c.id)
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.execute(page)).all()
    ids = [row.id for row in rows]
    tried: dict[UUID, list[Attempt]] = {i: [] for i in ids}
    if ids:
        statement = (
            select(attempts)
            .where(attempts.c.delivery_id.in_(ids))
            .order_by(attempts.c.delivery_id, attempts.c.seq)
        )
        for a in (await session.execute(statement)).all():
            tried[a.delivery_id].append(_attempt(a))
    return [_delivery(row, tried[row.id]) for row in rows]


def _attempt(row: Any) -> Attempt:
    return Attempt(
        at=row.at,
        status_code=row.status_code,
        error=row.error,
        latency_ms=row.latency_ms,
        next_retry_at=row.next_retry_at,
    )


def _delivery(row: Any, tried: Sequence[Attempt]) -> Delivery:
    status = DeliveryStatus(row.status)
    return Delivery(
        id=row.id,
        event_id=row.event_id,
        event_type=row.type,
        subscription_id=row.subscription_id,
        status=status,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at if status is DeliveryStatus.PENDING else None,
        attempts=tried,
    )
