"""Outbound webhooks: the event catalogue, subscriptions, signing, retries. Pure: no I/O."""

from domain.webhooks.delivery import (
    RETRY_DELAYS,
    Attempt,
    Delivery,
    DeliveryStatus,
    RetrySchedule,
)
from domain.webhooks.destination import Destination, refused_address
from domain.webhooks.errors import (
    DeliveryNotFound,
    DestinationRefused,
    InvalidSubscription,
    SubscriptionDisabled,
    SubscriptionNotFound,
    WebhookError,
)
from domain.webhooks.events import EventSource, EventType, OutboxEvent
from domain.webhooks.signature import WebhookSecret, sign, signature_header
from domain.webhooks.subscription import (
    DISABLE_AFTER_FAILING,
    OLD_SECRET_GRACE,
    DisabledReason,
    Subscription,
    parse_event_types,
)

__all__ = [
    "DISABLE_AFTER_FAILING",
    "OLD_SECRET_GRACE",
    "RETRY_DELAYS",
    "Attempt",
    "Delivery",
    "DeliveryNotFound",
    "DeliveryStatus",
    "Destination",
    "DestinationRefused",
    "DisabledReason",
    "EventSource",
    "EventType",
    "InvalidSubscription",
    "OutboxEvent",
    "RetrySchedule",
    "Subscription",
    "SubscriptionDisabled",
    "SubscriptionNotFound",
    "WebhookError",
    "WebhookSecret",
    "parse_event_types",
    "refused_address",
    "sign",
    "signature_header",
]
