"""A clock that says what the test tells it to."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class FixedClock:
    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = now.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now.astimezone(UTC)


class TickingClock:
    """Starts at a chosen instant and moves with real time (for servers whose retries
    must come due while the test practice's dates stay in the future)."""

    def __init__(self, start: datetime) -> None:
        self._start, self._t0 = start.astimezone(UTC), time.monotonic()
        self._offset_s = 0.0

    def now(self) -> datetime:
        elapsed = time.monotonic() - self._t0 + self._offset_s
        return self._start + timedelta(seconds=elapsed)

    def advance(self, seconds: float) -> None:
        self._offset_s += seconds
