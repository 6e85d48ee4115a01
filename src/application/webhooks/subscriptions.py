"""Use cases: read, remove, and rotate the secret of webhook subscriptions."""

from __future__ import annotations

from uuid import UUID

from application.ports import Clock, WebhookSubscriptions
from domain.webhooks import Subscription, SubscriptionNotFound, WebhookSecret


class ListSubscriptionsHandler:
    """Every subscription, oldest first, disabled ones included (they say why)."""

    def __init__(self, subscriptions: WebhookSubscriptions) -> None:
        self._subscriptions = subscriptions

    async def __call__(self) -> list[Subscription]:
        return await self._subscriptions.list()


class GetSubscriptionHandler:
    def __init__(self, subscriptions: WebhookSubscriptions) -> None:
        self._subscriptions = subscriptions

    async def __call__(self, subscription_id: UUID) -> Subscription:
        found = await self._subscriptions.get(subscription_id)
        if found is None:
            raise SubscriptionNotFound()
        return found


class DeleteSubscriptionHandler:
    """Remove a subscription and its delivery history; deliveries in flight may still
    arrive once."""

    def __init__(self, subscriptions: WebhookSubscriptions) -> None:
        self._subscriptions = subscriptions

    async def __call__(self, subscription_id: UUID) -> None:
        if not await self._subscriptions.delete(subscription_id):
            raise SubscriptionNotFound()


class RotateSecretHandler:
    """A new secret, returned once. For 24 h every delivery carries two signatures, one
    per secret, so the receiver can switch without losing a message."""

    def __init__(self, subscriptions: WebhookSubscriptions, clock: Clock) -> None:
        self._subscriptions, self._clock = subscriptions, clock

    async def __call__(self, subscription_id: UUID) -> Subscription:
        new_secret, now = WebhookSecret.generate(), self._clock.now()
        rotated = await self._subscriptions.rotate_secret(
            subscription_id, lambda s: s.rotate(new_secret, now)
        )
        if rotated is None:
            raise SubscriptionNotFound()
        return rotated
