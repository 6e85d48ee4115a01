"""One delivery attempt, as values: the signed request, and what its result means."""

from __future__ import annotations

from datetime import datetime

from application.ports import AttemptRecord, DueDelivery, SendResult, WebhookRequest
from domain.webhooks import (
    Attempt,
    DeliveryStatus,
    RetrySchedule,
    Subscription,
    signature_header,
)

USER_AGENT = "frontdesk-webhooks/1"


def signed_request(due: DueDelivery, now: datetime) -> WebhookRequest:
    """The stored body, byte for byte, with Standard Webhooks headers: `webhook-id` is the
    event's id (the same on every retry), `webhook-timestamp` this attempt's time."""
    message_id, timestamp = str(due.event_id), int(now.timestamp())
    signing = due.subscription.signing_secrets(now)
    return WebhookRequest(
        url=due.subscription.destination.url,
        headers={
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(signing, message_id, timestamp, due.body),
        },
        body=due.body,
    )


def outcome(
    due: DueDelivery, result: SendResult, *, at: datetime, schedule: RetrySchedule
) -> AttemptRecord:
    """2xx: delivered. 410: failed for good, and the subscription is disabled. Anything
    else (another status, a timeout, a refused address): retried on the schedule, then
    failed; a subscription failing for days is disabled."""
    status_code, error = result.status_code, result.error
    succeeded = status_code is not None and 200 <= status_code < 300
    gone = status_code == 410
    failed_attempts = due.failed_attempts if succeeded else due.failed_attempts + 1
    next_at = None if succeeded or gone else schedule.next_attempt(failed_attempts, at)
    if succeeded:
        status = DeliveryStatus.SUCCEEDED
    else:
        status = DeliveryStatus.PENDING if next_at is not None else DeliveryStatus.FAILED
        if error is None:
            error = f"HTTP {status_code}"
    attempt = Attempt(
        at=at,
        status_code=status_code,
        error=None if succeeded else error,
        latency_ms=result.latency_ms,
        next_retry_at=next_at,
    )

    def update_subscription(subscription: Subscription) -> None:
        if succeeded:
            subscription.delivered()
        else:
            subscription.failed(at, gone=gone)

    return AttemptRecord(
        attempt=attempt,
        status=status,
        failed_attempts=failed_attempts,
        next_attempt_at=next_at,
        update_subscription=update_subscription,
    )
