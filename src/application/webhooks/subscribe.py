"""Use case: subscribe a URL to event types; the secret is shown this once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from application.ports import Clock, WebhookSubscriptions
from domain.webhooks import Destination, Subscription, WebhookSecret, parse_event_types


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribe:
    url: str
    events: Sequence[str]
    description: str = ""


class SubscribeHandler:
    """Rules: the URL is https and not private, loopback or link-local (unless
    `allow_private`: development and tests); the event types are known and at least one;
    a new random secret signs every delivery. The caller shows the returned
    subscription's secret to the integrator once; it is never logged."""

    def __init__(
        self, subscriptions: WebhookSubscriptions, clock: Clock, *, allow_private: bool
    ) -> None:
        self._subscriptions, self._clock = subscriptions, clock
        self._allow_private = allow_private

    async def __call__(self, command: Subscribe) -> Subscription:
        subscription = Subscription.create(
            destination=Destination.parse(command.url, allow_private=self._allow_private),
            events=parse_event_types(command.events),
            description=command.description,
            secret=WebhookSecret.generate(),
            now=self._clock.now(),
        )
        await self._subscriptions.add(subscription)
        return subscription
