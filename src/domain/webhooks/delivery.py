"""One event's delivery to one subscription, its attempts, and the retry schedule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
"""Waits after the 1st, 2nd, ... failed attempt; after the last, the delivery fails."""
JITTER = 0.1
"""Each wait is stretched or shrunk by up to this fraction, so retries do not march in step."""


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """`delays[n]` is the wait after the (n+1)th failed attempt. `jitter()` returns a
    number in [-1, 1] (random in production, fixed in tests)."""

    delays: Sequence[timedelta] = RETRY_DELAYS
    jitter: Callable[[], float] = lambda: 0.0

    @classmethod
    def with_first_retry(cls, first: timedelta, jitter: Callable[[], float]) -> RetrySchedule:
        return cls((first, *RETRY_DELAYS[1:]), jitter)

    def next_attempt(self, failed_attempts: int, now: datetime) -> datetime | None:
        """When to try again after `failed_attempts` failures in a row, or None: give up."""
        if failed_attempts < 1 or failed_attempts > len(self.delays):
            return None
        delay = self.delays[failed_attempts - 1]
        factor = 1 + JITTER * max(-1.0, min(1.0, self.jitter()))
        return now + delay * factor


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """One try: an HTTP status, or an error (timeout, refused destination...) if none."""

    at: datetime
    status_code: int | None
    error: str | None
    latency_ms: float
    next_retry_at: datetime | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """What the API shows of a delivery: its state and every attempt, oldest first."""

    id: UUID
    event_id: UUID
    event_type: str
    subscription_id: UUID
    status: DeliveryStatus
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: Sequence[Attempt]
