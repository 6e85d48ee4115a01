"""Webhook subscriptions in SQL; each method is one short transaction."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

from sqlalchemy import Row, delete, insert, select, update

from adapters.sql.database import Database
from adapters.sql.errors import translated_errors
from adapters.sql.tables import webhook_subscriptions as table
from domain.webhooks import (
    Destination,
    DisabledReason,
    EventType,
    Subscription,
    WebhookSecret,
)


def subscription_values(subscription: Subscription) -> dict[str, Any]:
    previous = subscription.previous_secret
    return {
        "url": subscription.destination.url,
        "events": json.dumps(sorted(t.value for t in subscription.events)),
        "description": subscription.description,
        "secret": subscription.secret.value,
        "previous_secret": previous.value if previous is not None else None,
        "previous_secret_expires_at": subscription.previous_secret_expires_at,
        "created_at": subscription.created_at,
        "failing_since": subscription.failing_since,
        "disabled_at": subscription.disabled_at,
        "disabled_reason": subscription.disabled_reason,
    }


def subscription_of(row: Row[Any], prefix: str = "") -> Subscription:
    """A subscription from a row of `webhook_subscriptions`, its columns named
    `prefix + column` (joined queries label them)."""

    def get(name: str) -> Any:
        return getattr(row, prefix + name)

    previous = get("previous_secret")
    reason = get("disabled_reason")
    return Subscription(
        id=get("id"),
        destination=Destination(get("url")),
        events=frozenset(EventType(t) for t in json.loads(get("events"))),
        description=get("description"),
        secret=WebhookSecret(get("secret")),
        created_at=get("created_at"),
        previous_secret=WebhookSecret(previous) if previous is not None else None,
        previous_secret_expires_at=get("previous_secret_expires_at"),
        failing_since=get("failing_since"),
        disabled_at=get("disabled_at"),
        disabled_reason=DisabledReason(reason) if reason is not None else None,
    )


class SqlAlchemyWebhookSubscriptions:
    """`application.ports.WebhookSubscriptions`."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def add(self, subscription: Subscription) -> None:
        async with translated_errors(), self._database.session() as session, session.begin():
            await session.execute(
                insert(table).values(id=subscription.id, **subscription_values(subscription))
            )

    async def get(self, subscription_id: UUID) -> Subscription | None:
        async with translated_errors(), self._database.session() as session, session.begin():
            row = (
                await session.execute(select(table).where(table.c.id == subscription_id))
            ).first()
        return subscription_of(row) if row is not None else None

    async def list(self) -> list[Subscription]:
        statement = select(table).order_by(table.c.created_at, table.c.id)
        async with translated_errors(), self._database.session() as session, session.begin():
            rows = (await session.execute(statement)).all()
        return [subscription_of(row) for row in rows]

    async def rotate_secret(
        self, subscription_id: UUID, rotate: Callable[[Subscription], None]
    ) -> Subscription | None:
        statement = select(table).where(table.c.id == subscription_id).with_for_update()
        async with translated_errors(), self._database.session() as session, session.begin():
            row = (await session.execute(statement)).first()
            if row is None:
                return None
            subscription = subscription_of(row)
            rotate(subscription)
            await session.execute(
                update(table)
                .where(table.c.id == subscription_id)
                .values(**subscription_values(subscription))
            )
        return subscription

    async def delete(self, subscription_id: UUID) -> bool:
        async with translated_errors(), self._database.session() as session, session.begin():
            result = await session.execute(delete(table).where(table.c.id == subscription_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]
