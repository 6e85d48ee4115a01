"""What every simulated media stream (Twilio, Telnyx, the browser page) offers the tests:
waiting on what the server sent, on events rather than sleeps, and the protocol
violations it committed. Each simulator sets the attributes declared here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class ObservedStream:
    _loop: asyncio.AbstractEventLoop
    _t0: float
    _waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]]
    violations: list[str]
    audio: bytearray
    closed: asyncio.Event

    @property
    def now(self) -> float:
        """Seconds since the stream connected, on the clock `Received.at` uses."""
        return self._loop.time() - self._t0

    def assert_no_violations(self) -> None:
        assert not self.violations, f"protocol violations: {self.violations}"

    async def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
        """Return once `predicate()` holds (checked after every change); else time out."""
        if predicate():
            return
        future: asyncio.Future[None] = self._loop.create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            async with asyncio.timeout(timeout_s):
                await future
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    async def wait_for_audio(self, n_bytes: int, timeout_s: float = 5.0) -> None:
        await self.wait_for(lambda: len(self.audio) >= n_bytes, timeout_s)

    async def wait_closed(self, timeout_s: float = 5.0) -> None:
        async with asyncio.timeout(timeout_s):
            await self.closed.wait()

    def _changed(self) -> None:
        for predicate, future in self._waiters:
            if not future.done() and predicate():
                future.set_result(None)

    def _violation(self, text: str) -> None:
        self.violations.append(text)
        self._changed()


class MarkedStream(ObservedStream):
    """A carrier's stream whose playback is tracked with named marks and `clear`."""

    marks_received: list[str]
    marks_echoed: list[tuple[str, float]]
    clears: list[float]

    async def wait_for_mark_received(self, name: str, timeout_s: float = 5.0) -> None:
        await self.wait_for(lambda: name in self.marks_received, timeout_s)

    async def wait_for_mark_echoed(self, name: str, timeout_s: float = 5.0) -> float:
        """Wait until the carrier would echo mark `name`; return when (since connect)."""
        await self.wait_for(lambda: any(n == name for n, _ in self.marks_echoed), timeout_s)
        return next(at for n, at in self.marks_echoed if n == name)

    async def wait_for_clears(self, count: int = 1, timeout_s: float = 5.0) -> None:
        await self.wait_for(lambda: len(self.clears) >= count, timeout_s)
