"""The failed-key throttle: a sliding window per client address, on an injected clock."""

from __future__ import annotations

import pytest

from entrypoints.http.auth_throttle import AuthFailureThrottle, AuthThrottled


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: AuthFailureThrottle, address: str, times: int) -> None:
    for _ in range(times):
        throttle.check(address)
        throttle.record_failure(address)


def test_an_address_is_refused_once_it_reaches_the_limit_with_the_time_left() -> None:
    clock = Clock()
    throttle = AuthFailureThrottle(3, 60, clock=clock)
    fail(throttle, "198.51.100.1", 3)
    clock.now += 20
    with pytest.raises(AuthThrottled) as refused:
        throttle.check("198.51.100.1")
    assert refused.value.retry_after_s == 40
    assert refused.value.code == "auth_throttled"


def test_other_addresses_are_not_affected() -> None:
    throttle = AuthFailureThrottle(3, 60, clock=Clock())
    fail(throttle, "198.51.100.1", 3)
    throttle.check("198.51.100.2")


def test_failures_age_out_one_by_one_as_the_window_slides() -> None:
    clock = Clock()
    throttle = AuthFailureThrottle(3, 60, clock=clock)
    throttle.record_failure("a")
    clock.now += 30
    throttle.record_failure("a")
    throttle.record_failure("a")
    clock.now += 30  # the first failure is now exactly a window old: it no longer counts
    throttle.check("a")
    throttle.record_failure("a")
    with pytest.raises(AuthThrottled) as refused:
        throttle.check("a")
    assert refused.value.retry_after_s == 30  # when the two at +30 s expire
    clock.now += 30
    throttle.check("a")


def test_memory_is_bounded_by_forgetting_the_least_recent_address() -> None:
    throttle = AuthFailureThrottle(1, 60, clock=Clock(), max_addresses=2)
    for address in ("a", "b", "c"):
        throttle.record_failure(address)
    throttle.check("a")  # forgotten
    for address in ("b", "c"):
        with pytest.raises(AuthThrottled):
            throttle.check(address)
