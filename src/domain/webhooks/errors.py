"""Webhook errors: a stable machine code and a sentence for the integrator."""

from __future__ import annotations


class WebhookError(Exception):
    """Base of every rule the webhook model refuses; `code` is stable."""

    code = "webhook_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidSubscription(WebhookError):
    """A subscription request that can never be valid (a bad URL, an unknown event type)."""

    code = "invalid_subscription"


class DestinationRefused(WebhookError):
    """The destination is not https, or is (or resolves to) a private address."""

    code = "destination_refused"


class SubscriptionNotFound(WebhookError):
    code = "webhook_not_found"

    def __init__(self, message: str = "No webhook subscription with that id.") -> None:
        super().__init__(message)


class DeliveryNotFound(WebhookError):
    code = "delivery_not_found"

    def __init__(self, message: str = "No delivery with that id for this subscription.") -> None:
        super().__init__(message)


class SubscriptionDisabled(WebhookError):
    """Nothing is delivered to a disabled subscription; subscribe again instead."""

    code = "webhook_disabled"
