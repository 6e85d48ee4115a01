"""The host's calls, shared by the worker processes of `serve --workers` (the
`HostCalls` port of `entrypoints.http.capacity`).

A call's webhook and its media stream may reach different workers, so the host keeps
one table of reservations (webhooks answered, streams not started) and each worker's
count of live calls, in shared memory the supervisor makes before it forks the
workers. When a stream starts on another worker than the one that reserved its place,
that one is woken through its pipe, so it can close the agent conversation it opened
ahead for the call at once rather than when it would lapse.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import Callable
from multiprocessing.context import ForkContext

RESERVATION_TABLE_MAX = 1024
"""Webhooks answered whose streams have not started yet, at most, on one host."""
_KEY_BYTES = 8


class HostCallState:
    """Made by the supervisor, inherited by every worker: each worker's live calls; the
    reservations (a hash of the call's reference, when it lapses, the worker that made
    it; a zero key marks a free entry); and one wake-up pipe per worker."""

    def __init__(self, context: ForkContext, workers: int, max_calls: int) -> None:
        self.lock = context.Lock()
        self.live = context.RawArray("i", workers)
        size = min(max_calls, RESERVATION_TABLE_MAX)
        self.keys = context.RawArray("q", size)
        self.until = context.RawArray("d", size)
        self.owner = context.RawArray("i", size)
        self.wakeups = [os.pipe() for _ in range(workers)]
        for reader, writer in self.wakeups:
            os.set_blocking(reader, False)
            os.set_blocking(writer, False)  # a full pipe loses a wake-up, never blocks

    def close(self) -> None:
        for pipe in self.wakeups:
            for fd in pipe:
                os.close(fd)


class SharedHostCalls:
    """The `HostCalls` port over `HostCallState`, for the worker numbered `index`."""

    def __init__(
        self, state: HostCallState, index: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._state, self._index, self._clock = state, index, clock
        self._mine: dict[int, tuple[str, float]] = {}
        """The reservations this worker made: key -> (call reference, lapse)."""

    def reserve(self, call_ref: str, until: float, max_calls: int) -> bool:
        key, state, now = _key(call_ref), self._state, self._clock()
        self._mine = {k: mine for k, mine in self._mine.items() if mine[1] > now}
        with state.lock:
            keys, lapses = state.keys[:], state.until[:]
            held = [i for i, k in enumerate(keys) if k and lapses[i] > now]
            if any(keys[i] == key for i in held):
                return True  # a repeated webhook keeps its place
            if len(held) + sum(state.live[:]) >= max_calls:
                return False
            # A free entry, or one whose reservation lapsed (its stream never came).
            free = next((i for i, k in enumerate(keys) if not k or lapses[i] <= now), None)
            if free is None:
                return False
            state.keys[free], state.until[free], state.owner[free] = key, until, self._index
        self._mine[key] = (call_ref, until)
        return True

    def started(self, call_ref: str, live_here: int) -> None:
        key, state = _key(call_ref), self._state
        self._mine.pop(key, None)
        with state.lock:
            state.live[self._index] = live_here
            keys = state.keys[:]
            if key not in keys:
                return
            entry = keys.index(key)
            state.keys[entry] = 0
            owner = state.owner[entry]
        if owner != self._index:
            with contextlib.suppress(BlockingIOError, BrokenPipeError):
                os.write(state.wakeups[owner][1], key.to_bytes(_KEY_BYTES, "big", signed=True))

    def ended(self, live_here: int) -> None:
        with self._state.lock:
            self._state.live[self._index] = live_here

    def watch(self, started_elsewhere: Callable[[str], None]) -> None:
        """On the running loop, call `started_elsewhere(call_ref)` for each call this
        worker reserved whose stream has started on another worker."""
        reader = self._state.wakeups[self._index][0]

        def woken() -> None:
            with contextlib.suppress(BlockingIOError):
                data = os.read(reader, 4096 - 4096 % _KEY_BYTES)
                for at in range(0, len(data) - len(data) % _KEY_BYTES, _KEY_BYTES):
                    key = int.from_bytes(data[at : at + _KEY_BYTES], "big", signed=True)
                    mine = self._mine.pop(key, None)
                    if mine is not None:
                        started_elsewhere(mine[0])

        asyncio.get_running_loop().add_reader(reader, woken)


def _key(call_ref: str) -> int:
    """A stable, non-zero 64-bit key for a call (`hash()` differs between processes)."""
    digest = hashlib.blake2b(call_ref.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True) or 1
