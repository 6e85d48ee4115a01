"""The text dispatcher: sends the texts the outbox holds, with a short retry schedule."""

from __future__ import annotations

import logging
from datetime import timedelta

from application.ports import Clock, DueText, Notifier, TextNotSent, TextObserver, TextQueue
from application.webhooks.wake import DeliveryWakeUp, run_rounds
from domain.webhooks import RetrySchedule

log = logging.getLogger(__name__)

TEXT_RETRY_DELAYS = (timedelta(seconds=30), timedelta(minutes=5), timedelta(minutes=30))
"""A confirmation is worth little hours late: three retries within about 35 minutes."""


class TextDispatcher:
    """At-least-once texts, one task per process. Each round claims due texts (leased, so
    instances never send one twice at once) and sends them one by one. A permanent
    refusal (bad number, opted out at the provider) fails the text at once; anything else
    is retried on `TEXT_RETRY_DELAYS`. A text to a number that texted STOP to us is
    skipped, never sent. Numbers and bodies are never logged."""

    def __init__(
        self,
        queue: TextQueue,
        notifier: Notifier,
        clock: Clock,
        wake: DeliveryWakeUp,
        *,
        observer: TextObserver | None = None,
        poll_interval_s: float = 1.0,
        lease_s: float = 60.0,
        batch_size: int = 20,
    ) -> None:
        self._queue, self._notifier, self._clock, self._wake = queue, notifier, clock, wake
        self._poll_interval_s, self._lease_s, self._batch = poll_interval_s, lease_s, batch_size
        self._schedule = RetrySchedule(TEXT_RETRY_DELAYS)
        self._observer = observer

    async def run(self) -> None:
        """Until cancelled."""
        await run_rounds(self.run_once, self._wake, self._poll_interval_s, "text dispatch")

    async def run_once(self) -> bool:
        """One round; True when the batch was full."""
        due = await self._queue.claim_due(self._clock.now(), self._lease_s, self._batch)
        for text in due:
            await self._send(text)
        return len(due) == self._batch

    def _count(self, outcome: str) -> None:
        if self._observer is not None:
            self._observer.text_attempted(outcome)

    async def _send(self, text: DueText) -> None:
        if text.opted_out:
            if await self._queue.skip(text, "the number opted out (STOP)"):
                self._count("skipped")
            log.info("text %s skipped: the number opted out", text.id)
            return
        try:
            sent_id = await self._notifier.send_text(text.to, text.body)
        except TextNotSent as refused:
            failed = text.failed_attempts + 1
            retry_at = None
            if not refused.permanent:
                retry_at = self._schedule.next_attempt(failed, self._clock.now())
            log.info("text %s not sent (%s); retry at %s", text.id, refused.reason, retry_at)
            self._count("retried" if retry_at else "failed")
            await self._queue.record(
                text,
                sent_id=None,
                failed_attempts=failed,
                next_attempt_at=retry_at,
                error=refused.reason,
            )
            return
        self._count("sent")
        await self._queue.record(
            text,
            sent_id=sent_id,
            failed_attempts=text.failed_attempts,
            next_attempt_at=None,
            error=None,
        )
