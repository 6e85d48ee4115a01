"""The webhook dispatcher: fans outbox events out to subscriptions and delivers them."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from application.ports import Clock, DeliveryObserver, DeliveryQueue, DueDelivery, WebhookSender
from application.webhooks.attempt import outcome, signed_request
from application.webhooks.wake import DeliveryWakeUp, run_rounds
from domain.webhooks import DeliveryStatus, RetrySchedule

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class DispatchPolicy:
    schedule: RetrySchedule = field(default_factory=RetrySchedule)
    poll_interval_s: float = 1.0
    """Longest wait between rounds when not woken: events committed by other processes."""
    batch_size: int = 20
    lease: timedelta = timedelta(seconds=40)
    """How long a claimed attempt stays hidden from other dispatchers; longer than the
    sender's timeout, so no attempt is ever made twice at once."""


class WebhookDispatcher:
    """At-least-once delivery, one task per process (started by the app's lifespan).

    Each round: fan new events out (one delivery per subscription), claim what is due,
    send it concurrently, record each attempt. Between rounds it waits for a poke from a
    committing unit of work, or `poll_interval_s`. A storage failure is logged once per
    streak and retried next round; delivery never runs inside a request or a call.
    """

    def __init__(
        self,
        queue: DeliveryQueue,
        sender: WebhookSender,
        clock: Clock,
        wake: DeliveryWakeUp,
        observer: DeliveryObserver,
        policy: DispatchPolicy,
    ) -> None:
        self._queue, self._sender, self._clock = queue, sender, clock
        self._wake, self._observer, self._policy = wake, observer, policy

    async def run(self) -> None:
        """Until cancelled."""
        await run_rounds(
            self.run_once, self._wake, self._policy.poll_interval_s, "webhook dispatch"
        )

    async def run_once(self) -> bool:
        """One round; True when a batch was full (more may be waiting)."""
        batch = self._policy.batch_size
        fanned = await self._queue.fan_out(batch)
        due = await self._queue.claim_due(self._clock.now(), self._policy.lease, batch)
        results = await asyncio.gather(*(self._attempt(d) for d in due), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return fanned == batch or len(due) == batch

    async def _attempt(self, due: DueDelivery) -> None:
        started = self._clock.now()
        result = await self._sender.send(signed_request(due, started))
        at = self._clock.now()
        record = outcome(due, result, at=at, schedule=self._policy.schedule)
        if not await self._queue.record(due, record):
            log.warning("webhook delivery %s: claim lapsed; attempt not recorded", due.delivery_id)
            return
        if record.status is DeliveryStatus.SUCCEEDED:
            self._observer.attempted("sent", (at - due.occurred_at).total_seconds())
        elif record.status is DeliveryStatus.PENDING:
            self._observer.attempted("retried", None)
        else:
            self._observer.attempted("failed", None)
        if record.status is not DeliveryStatus.SUCCEEDED:
            log.info(
                "webhook delivery %s to subscription %s failed: %s",
                due.delivery_id,
                due.subscription.id,
                record.attempt.error,
            )
