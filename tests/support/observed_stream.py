"""What every simulated media stream (Twilio, Telnyx, the browser page) offers the tests:
waiting on what the server sent, on events rather than sleeps, and the protocol
violations it committed. Each simulator sets the attributes declared here."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import ClassVar


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
    """A carrier's stream whose playback is tracked with named marks and `clear`: audio
    plays out in real time at `BYTES_PER_S`, a mark is echoed (`_echo`, in the carrier's
    own words) once the audio queued before it has played, and `clear` drops what is
    still queued and echoes every pending mark at once."""

    BYTES_PER_S: ClassVar[int] = 8000
    marks_received: list[str]
    marks_echoed: list[tuple[str, float]]
    clears: list[float]
    cleared_audio_bytes: int
    _playout_end: float
    _segments: deque[tuple[float, int]]
    _pending_marks: deque[tuple[float, str]]
    _mark_timer: asyncio.TimerHandle | None

    def _echo(self, name: str) -> None:
        raise NotImplementedError

    async def wait_for_mark_received(self, name: str, timeout_s: float = 5.0) -> None:
        await self.wait_for(lambda: name in self.marks_received, timeout_s)

    async def wait_for_mark_echoed(self, name: str, timeout_s: float = 5.0) -> float:
        """Wait until the carrier would echo mark `name`; return when (since connect)."""
        await self.wait_for(lambda: any(n == name for n, _ in self.marks_echoed), timeout_s)
        return next(at for n, at in self.marks_echoed if n == name)

    async def wait_for_clears(self, count: int = 1, timeout_s: float = 5.0) -> None:
        await self.wait_for(lambda: len(self.clears) >= count, timeout_s)

    def _queue_playout(self, now: float, n_bytes: int) -> None:
        start = max(now, self._playout_end)
        self._playout_end = start + n_bytes / self.BYTES_PER_S
        segments = self._segments
        while segments and segments[0][0] + segments[0][1] / self.BYTES_PER_S <= now:
            segments.popleft()
        segments.append((start, n_bytes))

    def _queue_mark(self, now: float, name: str) -> None:
        due = max(now, self._playout_end)
        if not self._pending_marks and due <= now:
            self._echo(name)
            return
        self._pending_marks.append((due, name))
        if self._mark_timer is None:
            self._mark_timer = self._loop.call_at(due, self._fire_marks)

    def _fire_marks(self) -> None:
        self._mark_timer = None
        now = self._loop.time()
        pending = self._pending_marks
        while pending and pending[0][0] <= now + 0.0005:
            self._echo(pending.popleft()[1])
        if pending:
            self._mark_timer = self._loop.call_at(pending[0][0], self._fire_marks)
        self._changed()

    def _clear_playout(self, now: float) -> None:
        for start, n_bytes in self._segments:
            played = min(n_bytes, max(0, int((now - start) * self.BYTES_PER_S)))
            self.cleared_audio_bytes += n_bytes - played
        self._segments.clear()
        self._playout_end = now
        if self._mark_timer is not None:
            self._mark_timer.cancel()
            self._mark_timer = None
        while self._pending_marks:
            self._echo(self._pending_marks.popleft()[1])
