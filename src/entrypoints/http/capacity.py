"""How many calls this instance carries, and whether it takes more.

A webhook reserves a place before answering with a stream; the stream takes the place
when it starts and gives it back when it ends. A reservation whose stream never comes
lapses after `reservation_s`. While draining (SIGTERM), nothing new is admitted and
`wait_idle` tells when the last call has ended.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class CallCapacity:
    def __init__(
        self,
        max_calls: int,
        *,
        reservation_s: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_calls = max_calls
        self._reservation_s, self._clock = reservation_s, clock
        self._reserved: dict[str, float] = {}
        self._live: dict[str, asyncio.Task[object] | None] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self.draining = False

    @property
    def live_calls(self) -> int:
        return len(self._live)

    def reserve(self, call_sid: str) -> bool:
        """Hold a place for a call about to be answered; False when full or draining."""
        if self.draining:
            return False
        now = self._clock()
        self._reserved = {sid: t for sid, t in self._reserved.items() if t > now}
        if call_sid in self._reserved or call_sid in self._live:
            return True
        if len(self._reserved) + len(self._live) >= self.max_calls:
            return False
        self._reserved[call_sid] = now + self._reservation_s
        return True

    def stream_started(self, call_sid: str, task: asyncio.Task[object] | None = None) -> None:
        """The call's stream is up (whether or not this instance took its webhook)."""
        self._reserved.pop(call_sid, None)
        self._live[call_sid] = task
        self._idle.clear()

    def stream_ended(self, call_sid: str) -> None:
        self._live.pop(call_sid, None)
        if not self._live:
            self._idle.set()

    def start_draining(self) -> None:
        self.draining = True
        self._reserved.clear()

    async def wait_idle(self) -> None:
        await self._idle.wait()

    def live_tasks(self) -> list[asyncio.Task[object]]:
        return [task for task in self._live.values() if task is not None]
