"""Use cases: a subscription's delivery log, and sending one delivery again."""

from __future__ import annotations

from uuid import UUID

from application.ports import Clock, DeliveryQueue, Page, WebhookSubscriptions
from application.webhooks.wake import DeliveryWakeUp
from domain.webhooks import (
    Delivery,
    DeliveryNotFound,
    SubscriptionDisabled,
    SubscriptionNotFound,
)

MAX_PAGE_SIZE = 100


class ListDeliveriesHandler:
    """Newest first, each with every attempt (time, status or error, latency, next retry)."""

    def __init__(self, subscriptions: WebhookSubscriptions, queue: DeliveryQueue) -> None:
        self._subscriptions, self._queue = subscriptions, queue

    async def __call__(self, subscription_id: UUID, *, limit: int, offset: int) -> Page[Delivery]:
        if await self._subscriptions.get(subscription_id) is None:
            raise SubscriptionNotFound()
        return await self._queue.deliveries(
            subscription_id, limit=max(1, min(limit, MAX_PAGE_SIZE)), offset=max(0, offset)
        )


class RedeliverHandler:
    """Queue a delivery again now, with a fresh retry schedule, whatever its state. The
    same event id (`webhook-id`) is sent, so a receiver that already has it can ignore
    it. A disabled subscription receives nothing: subscribe again instead."""

    def __init__(
        self,
        subscriptions: WebhookSubscriptions,
        queue: DeliveryQueue,
        clock: Clock,
        wake: DeliveryWakeUp,
    ) -> None:
        self._subscriptions, self._queue, self._clock = subscriptions, queue, clock
        self._wake = wake

    async def __call__(self, subscription_id: UUID, delivery_id: UUID) -> Delivery:
        subscription = await self._subscriptions.get(subscription_id)
        if subscription is None:
            raise SubscriptionNotFound()
        if not subscription.active:
            raise SubscriptionDisabled(
                f"This subscription was disabled ({subscription.disabled_reason}); "
                "subscribe again to receive events."
            )
        delivery = await self._queue.redeliver(subscription_id, delivery_id, self._clock.now())
        if delivery is None:
            raise DeliveryNotFound()
        self._wake.poke()
        return delivery
