"""Outbound webhooks: subscriptions, the events' payloads, and their delivery."""

from application.webhooks.deliveries import ListDeliveriesHandler, RedeliverHandler
from application.webhooks.dispatcher import DispatchPolicy, WebhookDispatcher
from application.webhooks.payloads import appointment_event, call_event
from application.webhooks.subscribe import Subscribe, SubscribeHandler
from application.webhooks.subscriptions import (
    DeleteSubscriptionHandler,
    GetSubscriptionHandler,
    ListSubscriptionsHandler,
    RotateSecretHandler,
)
from application.webhooks.wake import DeliveryWakeUp

__all__ = [
    "DeleteSubscriptionHandler",
    "DeliveryWakeUp",
    "DispatchPolicy",
    "GetSubscriptionHandler",
    "ListDeliveriesHandler",
    "ListSubscriptionsHandler",
    "RedeliverHandler",
    "RotateSecretHandler",
    "Subscribe",
    "SubscribeHandler",
    "WebhookDispatcher",
    "appointment_event",
    "call_event",
]
