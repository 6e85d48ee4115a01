"""Request and response bodies of /api/v1/webhooks (msgspec). Instants are UTC (`Z`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from domain.webhooks import Attempt, Delivery, DeliveryStatus, EventType, Subscription

_SECRET = Meta(
    description="`whsec_` + base64 of the key. Shown only in this response: store it now.",
    examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
)


class SubscribeBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    url: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=2000,
            description="https; not a private, loopback or link-local address.",
            examples=["https://hooks.example.com/frontdesk"],
        ),
    ]
    events: Annotated[list[EventType], Meta(min_length=1, max_length=20)]
    description: Annotated[str, Meta(max_length=500)] = ""


class SubscriptionOut(msgspec.Struct, frozen=True):
    id: UUID
    url: str
    events: list[str]
    description: str
    status: Literal["active", "disabled"]
    disabled_reason: Annotated[
        str | None,
        Meta(description="`gone`: the receiver answered 410; `failing`: failed for 5 days"),
    ]
    disabled_at: datetime | None
    failing_since: Annotated[
        datetime | None, Meta(description="First failure of the current streak, if any")
    ]
    previous_secret_expires_at: Annotated[
        datetime | None, Meta(description="Until then the pre-rotation secret also signs")
    ]
    created_at: datetime

    @classmethod
    def of(cls, s: Subscription) -> SubscriptionOut:
        return cls(**_subscription_fields(s))


class SubscriptionCreated(msgspec.Struct, frozen=True):
    id: UUID
    url: str
    events: list[str]
    description: str
    status: Literal["active", "disabled"]
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    secret: Annotated[str, _SECRET]

    @classmethod
    def of(cls, s: Subscription) -> SubscriptionCreated:
        return cls(**_subscription_fields(s), secret=s.secret.value)


class RotatedSecret(msgspec.Struct, frozen=True):
    id: UUID
    secret: Annotated[str, _SECRET]
    previous_secret_expires_at: datetime


class SubscriptionList(msgspec.Struct, frozen=True):
    items: list[SubscriptionOut]


class AttemptOut(msgspec.Struct, frozen=True):
    at: datetime
    status_code: Annotated[int | None, Meta(description="The receiver's HTTP status, if any")]
    error: Annotated[str | None, Meta(description="Why it failed (status, timeout, refused)")]
    latency_ms: float
    next_retry_at: Annotated[datetime | None, Meta(description="None: no retry follows")]

    @classmethod
    def of(cls, a: Attempt) -> AttemptOut:
        return cls(
            _utc(a.at), a.status_code, a.error, round(a.latency_ms, 1), _opt(a.next_retry_at)
        )


class DeliveryOut(msgspec.Struct, frozen=True):
    id: UUID
    event_id: Annotated[UUID, Meta(description="The `webhook-id` header: the same on retries")]
    event_type: str
    status: DeliveryStatus
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: list[AttemptOut]

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(
            id=d.id,
            event_id=d.event_id,
            event_type=d.event_type,
            status=d.status,
            created_at=_utc(d.created_at),
            next_attempt_at=_opt(d.next_attempt_at),
            attempts=[AttemptOut.of(a) for a in d.attempts],
        )


class DeliveryPage(msgspec.Struct, frozen=True):
    items: list[DeliveryOut]
    total: Annotated[int, Meta(ge=0)]
    limit: int
    offset: int


def _subscription_fields(s: Subscription) -> dict[str, Any]:
    return {
        "id": s.id,
        "url": s.destination.url,
        "events": sorted(t.value for t in s.events),
        "description": s.description,
        "status": "active" if s.active else "disabled",
        "disabled_reason": s.disabled_reason.value if s.disabled_reason else None,
        "disabled_at": _opt(s.disabled_at),
        "failing_since": _opt(s.failing_since),
        "previous_secret_expires_at": _opt(s.previous_secret_expires_at),
        "created_at": _utc(s.created_at),
    }


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _opt(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None
