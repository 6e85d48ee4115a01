"""Ports of outbound webhooks: subscriptions, the delivery queue, the sender (the outbox
itself is on the unit of work)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from application.ports.unit_of_work import Page
from domain.webhooks import Attempt, Delivery, DeliveryStatus, Subscription


class WebhookSubscriptions(Protocol):
    """Subscriptions; each method is its own short transaction."""

    async def add(self, subscription: Subscription) -> None: ...

    async def get(self, subscription_id: UUID) -> Subscription | None: ...

    async def list(self) -> list[Subscription]:
        """Every subscription, oldest first (there are few)."""
        ...

    async def rotate_secret(
        self, subscription_id: UUID, rotate: Callable[[Subscription], None]
    ) -> Subscription | None:
        """Lock the subscription, apply `rotate`, store its secrets; None if it is gone."""
        ...

    async def delete(self, subscription_id: UUID) -> bool:
        """Remove it with its deliveries; False if there was none."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DueDelivery:
    """A delivery claimed for one attempt. `claim` proves the claim when recording."""

    delivery_id: UUID
    claim: UUID
    event_id: UUID
    occurred_at: datetime
    body: bytes = field(repr=False)
    failed_attempts: int
    subscription: Subscription


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptRecord:
    """What became of one claimed attempt."""

    attempt: Attempt
    status: DeliveryStatus
    failed_attempts: int
    next_attempt_at: datetime | None
    update_subscription: Callable[[Subscription], None]
    """Applied to the freshly locked subscription (success clears its failure streak; a
    failure may disable it)."""


class DeliveryQueue(Protocol):
    """Deliveries of outbox events, one per (event, subscription). Each method is one
    transaction; claims are leases, so several dispatchers (processes, instances) never
    hold the same attempt at once, and a crashed one's claims come back when they lapse."""

    async def fan_out(self, limit: int) -> int:
        """Give up to `limit` new events a pending delivery per active subscription that
        wants them and existed when they occurred; how many events were handled."""
        ...

    async def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[DueDelivery]:
        """Pending deliveries due by `now` to active subscriptions, earliest first, each
        hidden from other claimers until `now + lease`."""
        ...

    async def record(self, due: DueDelivery, outcome: AttemptRecord) -> bool:
        """Store the attempt and the delivery's new state; False (nothing stored) if the
        claim had lapsed and been taken by another dispatcher."""
        ...

    async def deliveries(self, subscription_id: UUID, *, limit: int, offset: int) -> Page[Delivery]:
        """A subscription's deliveries, newest first, each with its attempts."""
        ...

    async def redeliver(
        self, subscription_id: UUID, delivery_id: UUID, now: datetime
    ) -> Delivery | None:
        """Make the delivery pending and due now, with a fresh retry schedule; None if the
        subscription has no such delivery."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookRequest:
    url: str
    headers: Mapping[str, str]
    body: bytes = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    """The receiver's HTTP status, or why there was none (timeout, refused address...)."""

    status_code: int | None
    error: str | None
    latency_ms: float


class WebhookSender(Protocol):
    async def send(self, request: WebhookRequest) -> SendResult:
        """POST the request; never raises for the receiver's or the network's failures.

        Unless private destinations are allowed, the host is resolved and refused when
        any of its addresses is private, loopback or link-local, and the connection goes
        to an address that was checked (no second lookup to rebind)."""
        ...


class DeliveryObserver(Protocol):
    def attempted(self, outcome: str, lag_s: float | None) -> None:
        """`outcome`: sent, retried or failed; `lag_s`: from the event to its delivery
        (sent only)."""
        ...
