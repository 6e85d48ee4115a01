"""Failed API-key attempts counted per client address, so keys cannot be guessed at speed.

Per instance and in memory, like the per-key rate limit. Time comes from an injected
monotonic clock, so tests move it instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Final

from entrypoints.http.rate_limit import RateLimited

MAX_ADDRESSES: Final = 10_000
"""Addresses tracked at most; past it the least recently failing one is forgotten, so a
spray from many addresses costs bounded memory."""


class AuthThrottled(RateLimited):
    """Too many invalid API keys from this client address; retry after `retry_after_s`."""

    code = "auth_throttled"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            retry_after_s,
            f"Too many invalid API keys from this address; retry in {retry_after_s} s.",
        )


class AuthFailureThrottle:
    """At most `limit` failures per address within a sliding `window_s`.

    `check` refuses an address that has reached the limit, whatever key it sends next:
    admitting a valid key meanwhile would let the status code keep answering guesses.
    Successes are not counted and clear nothing; failures age out of the window one by
    one, so an address is let in again as soon as its oldest counted failure expires.
    """

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = MAX_ADDRESSES,
    ) -> None:
        if limit <= 0 or window_s <= 0:
            raise ValueError("limit and window_s must be positive")
        self._limit, self._window_s, self._clock = limit, window_s, clock
        self._max_addresses = max_addresses
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def check(self, address: str) -> None:
        """Raise `AuthThrottled` if `address` has used up its failures."""
        failures = self._recent(address)
        if failures is not None and len(failures) >= self._limit:
            retry_after_s = failures[0] + self._window_s - self._clock()
            raise AuthThrottled(max(1, math.ceil(retry_after_s)))

    def record_failure(self, address: str) -> None:
        failures = self._recent(address)
        if failures is None:
            failures = self._failures[address] = deque(maxlen=self._limit)
            while len(self._failures) > self._max_addresses:
                self._failures.popitem(last=False)
        failures.append(self._clock())
        self._failures.move_to_end(address)

    def _recent(self, address: str) -> deque[float] | None:
        """`address`'s failures still inside the window (expired ones dropped)."""
        failures = self._failures.get(address)
        if failures is None:
            return None
        horizon = self._clock() - self._window_s
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[address]
            return None
        return failures
