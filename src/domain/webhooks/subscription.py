"""A webhook subscription: where to send which events, signed with which secret."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID, uuid4

from domain.webhooks.destination import Destination
from domain.webhooks.errors import InvalidSubscription
from domain.webhooks.events import EventType
from domain.webhooks.signature import WebhookSecret

OLD_SECRET_GRACE = timedelta(hours=24)
"""After a rotation, the old secret keeps signing alongside the new one this long."""
DISABLE_AFTER_FAILING = timedelta(days=5)
"""A subscription whose deliveries have all failed this long is disabled."""
MAX_DESCRIPTION_LENGTH = 500


class DisabledReason(StrEnum):
    GONE = "gone"
    """The receiver answered 410 Gone: it asked to be unsubscribed."""
    FAILING = "failing"
    """Every delivery failed for `DISABLE_AFTER_FAILING`."""


def parse_event_types(names: Iterable[str]) -> frozenset[EventType]:
    known = {t.value for t in EventType}
    names = list(names)
    unknown = sorted(set(names) - known)
    if unknown:
        raise InvalidSubscription(
            f"Unknown event types {unknown}; known: {sorted(known)}.", field="events"
        )
    if not names:
        raise InvalidSubscription("Subscribe to at least one event type.", field="events")
    return frozenset(EventType(n) for n in names)


@dataclass(slots=True, eq=False)
class Subscription:
    """Identity is `id`. Transitions are methods; `disabled_at` set means no deliveries."""

    id: UUID
    destination: Destination
    events: frozenset[EventType]
    description: str
    secret: WebhookSecret
    created_at: datetime
    previous_secret: WebhookSecret | None = None
    previous_secret_expires_at: datetime | None = None
    failing_since: datetime | None = None
    disabled_at: datetime | None = None
    disabled_reason: DisabledReason | None = None

    @classmethod
    def create(
        cls,
        *,
        destination: Destination,
        events: frozenset[EventType],
        description: str,
        secret: WebhookSecret,
        now: datetime,
    ) -> Subscription:
        if len(description) > MAX_DESCRIPTION_LENGTH:
            raise InvalidSubscription(
                f"The description is at most {MAX_DESCRIPTION_LENGTH} characters.",
                field="description",
            )
        return cls(
            id=uuid4(),
            destination=destination,
            events=events,
            description=description,
            secret=secret,
            created_at=now,
        )

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def wants(self, event_type: EventType) -> bool:
        return self.active and event_type in self.events

    def signing_secrets(self, now: datetime) -> list[WebhookSecret]:
        """The current secret, then the previous one while its grace period lasts."""
        result = [self.secret]
        if (
            self.previous_secret is not None
            and self.previous_secret_expires_at is not None
            and now < self.previous_secret_expires_at
        ):
            result.append(self.previous_secret)
        return result

    def rotate(self, new_secret: WebhookSecret, now: datetime) -> None:
        """The old secret keeps signing for `OLD_SECRET_GRACE`; one older is dropped."""
        self.previous_secret = self.secret
        self.previous_secret_expires_at = now + OLD_SECRET_GRACE
        self.secret = new_secret

    def delivered(self) -> None:
        self.failing_since = None

    def failed(self, now: datetime, *, gone: bool) -> None:
        """Record a failed attempt; disable on 410 or after failing for days."""
        if not self.active:
            return
        if gone:
            self._disable(DisabledReason.GONE, now)
            return
        if self.failing_since is None:
            self.failing_since = now
        elif now - self.failing_since >= DISABLE_AFTER_FAILING:
            self._disable(DisabledReason.FAILING, now)

    def _disable(self, reason: DisabledReason, now: datetime) -> None:
        self.disabled_at, self.disabled_reason = now, reason
