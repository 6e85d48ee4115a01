"""`FinalRecord`: store a finished call's record, and keep trying through an outage."""

from __future__ import annotations

import asyncio
import logging

from application.errors import StorageUnavailable
from application.ports import Clock, UnitOfWorkFactory
from application.webhooks.payloads import call_event
from domain.calls import Call
from domain.webhooks import EventType

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 5.0


class FinalRecord:
    """Writes one finished call over its stored record.

    `retry_s` bounds how long a record the database refused is retried (pauses start
    at `backoff_s` and double up to `MAX_BACKOFF_S`); a record still unsaved then is
    logged as lost, so an outage never loses a record without a word.
    """

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, *, retry_s: float, backoff_s: float
    ) -> None:
        self._uow, self._clock = uow, clock
        self._retry_s, self._backoff_s = retry_s, backoff_s

    async def save(self, call: Call) -> bool:
        """One attempt; False when the database is out of reach (nothing was written).

        The carrier's final status is kept: its status report often lands while the call
        is finalising, and our copy of the record predates it (a blind write would
        erase it). `call.completed` is written in the same transaction: an event for a
        record that was not stored is never sent, and a stored one always has its event."""
        try:
            async with self._uow() as uow:
                stored = await uow.calls.get(call.id, for_update=True)
                if stored is not None and stored.carrier_status and not call.carrier_status:
                    call.complete(stored.carrier_status, stored.duration_s, self._clock.now())
                await uow.calls.update(call)
                await uow.outbox.add(
                    call_event(EventType.CALL_COMPLETED, call, now=self._clock.now())
                )
                await uow.commit()
        except StorageUnavailable:
            return False
        return True

    async def save_when_storage_returns(self, call: Call) -> bool:
        """Retry `save` until it succeeds or `retry_s` has passed; True once stored.

        A record still unsaved at the end (or when the process cancels this on its
        way out) is logged as lost."""
        log.warning("call record not saved: database unavailable; retrying")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._retry_s
        pause_s, stored = self._backoff_s, False
        try:
            while not stored and loop.time() + pause_s <= deadline:
                await asyncio.sleep(pause_s)
                stored = await self.save(call)
                pause_s = min(pause_s * 2, MAX_BACKOFF_S)
        finally:
            if stored:
                log.info("call record saved once the database returned")
            else:
                log.error(
                    "call record lost: database unavailable (end reason %s, %d turns, "
                    "%d tool calls)",
                    call.end_reason,
                    len(call.turns),
                    len(call.tool_invocations),
                )
        return stored
