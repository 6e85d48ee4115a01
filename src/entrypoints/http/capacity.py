"""How many calls this instance carries, and whether it takes more.

A webhook reserves a place before answering with a stream; the stream takes the place
when it starts and gives it back when it ends. A reservation whose stream never comes
lapses after `reservation_s`. While draining (SIGTERM), nothing new is admitted and
`wait_idle` tells when the last call has ended.

Calls are named by `call_ref`: the carrier's name and its reference for the call. A
call whose stream has ended is not over yet: the carrier then asks what to do next
(hang up, or dial the front desk). Until that is answered, or for at most `handoff_s`
(no carrier asks when the caller hung up), the call counts as handing off, and a
draining instance waits for it: exiting at the stream's end would drop the transfer of
the last caller.

With several worker processes the limit is the host's: each worker's `CallCapacity`
shares one `HostCalls` (the supervisor's shared memory) holding the host's reservations
and each worker's live calls, since a call's webhook and its stream may reach different
workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Protocol


class HostCalls(Protocol):
    """The calls reserved and live across every worker process on this host."""

    def reserve(self, call_ref: str, until: float, max_calls: int) -> bool:
        """Hold a place until `until` (on the monotonic clock) if the host holds fewer
        than `max_calls` (a call that holds one already keeps it)."""
        ...

    def started(self, call_ref: str, live_here: int) -> None:
        """The call's stream is up here: its reservation, wherever made, is spent."""
        ...

    def ended(self, live_here: int) -> None:
        """This worker's live calls are now `live_here`."""
        ...

    def watch(self, started_elsewhere: Callable[[str], None]) -> None:
        """On the running loop, call `started_elsewhere(call_ref)` for each call this
        worker reserved whose stream has started on another worker."""
        ...


class CallCapacity:
    def __init__(
        self,
        max_calls: int,
        *,
        reservation_s: float = 20.0,
        handoff_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        host: HostCalls | None = None,
    ) -> None:
        self.max_calls = max_calls
        """The host's limit: this process's alone, or shared through `host`."""
        self._host = host
        self._reservation_s, self._handoff_s, self._clock = reservation_s, handoff_s, clock
        self._reserved: dict[str, float] = {}
        self._live: dict[str, asyncio.Task[object] | None] = {}
        self._handing_off: dict[str, float] = {}
        """Calls whose stream ended, until their after-stream answer (or a deadline)."""
        self._changed = asyncio.Event()
        self.draining = False

    @property
    def live_calls(self) -> int:
        return len(self._live)

    def reserve(self, call_ref: str) -> bool:
        """Hold a place for a call about to be answered; False when full or draining."""
        if self.draining:
            return False
        now = self._clock()
        self._reserved = {sid: t for sid, t in self._reserved.items() if t > now}
        if call_ref in self._reserved or call_ref in self._live:
            return True
        if self._host is not None:
            return self._host.reserve(call_ref, now + self._reservation_s, self.max_calls)
        if len(self._reserved) + len(self._live) >= self.max_calls:
            return False
        self._reserved[call_ref] = now + self._reservation_s
        return True

    def stream_started(self, call_ref: str, task: asyncio.Task[object] | None = None) -> None:
        """The call's stream is up (whether or not this instance took its webhook)."""
        self._reserved.pop(call_ref, None)
        self._live[call_ref] = task
        if self._host is not None:
            self._host.started(call_ref, len(self._live))
        self._changed.set()

    def stream_ended(self, call_ref: str) -> None:
        """The stream is over; the call hands off until its after-stream is answered."""
        self._live.pop(call_ref, None)
        if self._host is not None:
            self._host.ended(len(self._live))
        self._forget_lapsed_handoffs()
        self._handing_off[call_ref] = self._clock() + self._handoff_s
        self._changed.set()

    def handed_off(self, call_ref: str) -> None:
        """Twilio has its answer for what follows the stream."""
        self._handing_off.pop(call_ref, None)
        self._changed.set()

    def start_draining(self) -> None:
        self.draining = True
        self._reserved.clear()

    async def wait_idle(self) -> None:
        """Return once no stream is live and every ended call has handed off (or its
        hand-off deadline has passed)."""
        while True:
            self._changed.clear()
            self._forget_lapsed_handoffs()
            if not self._live and not self._handing_off:
                return
            wait_s = None
            if not self._live:
                wait_s = min(self._handing_off.values()) - self._clock()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_s):
                    await self._changed.wait()

    def _forget_lapsed_handoffs(self) -> None:
        now = self._clock()
        self._handing_off = {sid: t for sid, t in self._handing_off.items() if t > now}

    def live_tasks(self) -> list[asyncio.Task[object]]:
        return [task for task in self._live.values() if task is not None]
