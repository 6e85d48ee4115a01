"""The webhook parts wired to the SQL adapter on a test database, with a fixed clock.

Tests drive `dispatcher.run_once()` and move the clock, so retry schedules are checked
without waiting for them.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from standardwebhooks import Webhook

from adapters.httpx_webhooks import HttpxWebhookSender, Resolver, system_resolver
from adapters.sql import Database, SqlAlchemyUnitOfWork
from adapters.sql.delivery_queue import SqlAlchemyDeliveryQueue
from adapters.sql.webhook_subscriptions import SqlAlchemyWebhookSubscriptions
from application.webhooks import (
    DeliveryWakeUp,
    DispatchPolicy,
    ListDeliveriesHandler,
    Subscribe,
    SubscribeHandler,
    WebhookDispatcher,
)
from domain.webhooks import Delivery, EventType, OutboxEvent, RetrySchedule, Subscription
from tests.support.clock import FixedClock


@dataclass
class CountingObserver:
    outcomes: list[str] = field(default_factory=list)

    def attempted(self, outcome: str, lag_s: float | None) -> None:
        self.outcomes.append(outcome)


@dataclass
class Hooks:
    database: Database
    clock: FixedClock
    wake: DeliveryWakeUp
    subscriptions: SqlAlchemyWebhookSubscriptions
    queue: SqlAlchemyDeliveryQueue
    observer: CountingObserver

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.database, self.wake.poke)

    async def emit(
        self, event_type: EventType = EventType.APPOINTMENT_BOOKED, **data: object
    ) -> OutboxEvent:
        """Commit one event through the outbox, now."""
        event = OutboxEvent(type=event_type, occurred_at=self.clock.now(), data=data)
        async with self.uow() as uow:
            await uow.outbox.add(event)
            await uow.commit()
        return event

    def advance(self, delta: timedelta) -> None:
        self.clock.set(self.clock.now() + delta)

    async def subscribe(
        self, url: str, events: list[str] | None = None, *, allow_private: bool = True
    ) -> Subscription:
        handler = SubscribeHandler(self.subscriptions, self.clock, allow_private=allow_private)
        return await handler(Subscribe(url=url, events=events or ["appointment.booked"]))

    @asynccontextmanager
    async def dispatcher(
        self,
        *,
        database: Database | None = None,
        allow_private: bool = True,
        resolve: Resolver = system_resolver,
        batch_size: int = 20,
    ) -> AsyncIterator[WebhookDispatcher]:
        """A dispatcher with its own sender (and, given `database`, its own engine: another
        process, as far as the database can tell)."""
        sender = HttpxWebhookSender(timeout_s=5, allow_private=allow_private, resolve=resolve)
        queue = SqlAlchemyDeliveryQueue(database) if database is not None else self.queue
        try:
            yield WebhookDispatcher(
                queue,
                sender,
                self.clock,
                self.wake,
                self.observer,
                DispatchPolicy(schedule=RetrySchedule(), batch_size=batch_size),
            )
        finally:
            await sender.aclose()

    async def deliveries(self, subscription_id: UUID) -> list[Delivery]:
        page = await ListDeliveriesHandler(self.subscriptions, self.queue)(
            subscription_id, limit=100, offset=0
        )
        return list(page.items)


def hooks_on(database: Database, now: datetime) -> Hooks:
    return Hooks(
        database=database,
        clock=FixedClock(now),
        wake=DeliveryWakeUp(),
        subscriptions=SqlAlchemyWebhookSubscriptions(database),
        queue=SqlAlchemyDeliveryQueue(database),
        observer=CountingObserver(),
    )


def signed_by(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Whether one of the `webhook-signature` entries is the Standard Webhooks reference
    implementation's signature with `secret` (its timestamp check is left out: tests run
    on fixed clocks)."""
    timestamp = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    expected = Webhook(secret).sign(headers["webhook-id"], timestamp, body)
    return expected in headers["webhook-signature"].split(" ")


def secret_bytes(secret: str) -> int:
    return len(base64.b64decode(secret.removeprefix("whsec_")))
