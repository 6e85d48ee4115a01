"""The per-key token bucket."""

from __future__ import annotations

import pytest

from entrypoints.http.rate_limit import RateLimited, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_refused_with_a_retry_time() -> None:
    clock = Clock()
    limiter = RateLimiter(60, burst=3, clock=clock)
    for _ in range(3):
        limiter.take("a")
    with pytest.raises(RateLimited) as refused:
        limiter.take("a")
    assert refused.value.retry_after_s == 1


def test_the_allowance_refills_with_time() -> None:
    clock = Clock()
    limiter = RateLimiter(60, burst=1, clock=clock)
    limiter.take("a")
    clock.now = 1.0
    limiter.take("a")
    with pytest.raises(RateLimited):
        limiter.take("a")


def test_keys_have_their_own_allowance() -> None:
    limiter = RateLimiter(60, burst=1, clock=Clock())
    limiter.take("a")
    limiter.take("b")
    with pytest.raises(RateLimited):
        limiter.take("a")
