"""A token bucket per API key, so one integrator's loop cannot starve the others.

Per instance: behind a load balancer each instance allows the full rate; set the
limit with that in mind. Buckets are created on first use and there is one per
configured key at most, so memory is bounded by the key list.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


class RateLimited(Exception):
    """Refused for now; `code` is the problem code, `retry_after_s` the Retry-After."""

    code = "rate_limited"

    def __init__(self, retry_after_s: int, message: str | None = None) -> None:
        super().__init__(message or f"Too many requests; retry in {retry_after_s} s.")
        self.retry_after_s = retry_after_s


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """`per_minute` requests a minute, with bursts up to `burst` (default: a minute's worth)."""

    def __init__(
        self,
        per_minute: int,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self._rate_per_s = per_minute / 60
        self._burst = float(burst or per_minute)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> None:
        """Spend one request of `key`'s allowance, or raise `RateLimited`."""
        now = self._clock()
        bucket = self._buckets.setdefault(key, _Bucket(self._burst, now))
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate_per_s)
        bucket.updated = now
        if bucket.tokens < 1:
            raise RateLimited(max(1, math.ceil((1 - bucket.tokens) / self._rate_per_s)))
        bucket.tokens -= 1
