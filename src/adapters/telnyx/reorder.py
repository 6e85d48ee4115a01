"""Puts caller audio back in order: Telnyx does not promise to deliver frames in order.

Pure bookkeeping, no I/O and no clock. Every inbound message carries one
`sequence_number` from a single count, so audio is held back only while a number
before it is missing, and only for a few frames: a frame that never comes costs at
most `max_held` frames of delay (60 ms at 3), not the call. Numbers taken by other
messages (a DTMF digit, a mark) are reported with `skip` so audio never waits for them.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class ReorderWindow(Generic[T]):
    """Releases items in sequence order.

    `push(n, item)` returns the items now deliverable, in order. An item older than
    what was already released is dropped and counted in `late_dropped` (playing it
    now would put speech out of order); a repeated number in `duplicates_dropped`.
    Once `max_held` items wait behind a gap, the gap is given up (`gaps_skipped`
    counts the missing numbers) and they are released.
    """

    __slots__ = (
        "_held",
        "_max_held",
        "_next",
        "_waiting",
        "duplicates_dropped",
        "gaps_skipped",
        "late_dropped",
    )

    def __init__(self, max_held: int = 3, first: int | None = None) -> None:
        if max_held < 1:
            raise ValueError("max_held must be at least 1")
        self._max_held = max_held
        self._next = first
        self._held: dict[int, T | None] = {}
        self._waiting = 0  # real items (not skips) in _held
        self.late_dropped = 0
        self.duplicates_dropped = 0
        self.gaps_skipped = 0

    @property
    def held(self) -> int:
        """Items waiting for a missing number."""
        return self._waiting

    def push(self, number: int, item: T) -> list[T]:
        return self._put(number, item)

    def skip(self, number: int) -> list[T]:
        """Number `number` went to a message that is not an item: do not wait for it."""
        return self._put(number, None)

    def flush(self) -> list[T]:
        """Everything held, in order, gaps and all (the stream is ending)."""
        released = [item for _, item in sorted(self._held.items()) if item is not None]
        if self._held:
            self._next = max(self._held) + 1
        self._held.clear()
        self._waiting = 0
        return released

    def _put(self, number: int, item: T | None) -> list[T]:
        if self._next is None:
            self._next = number
        if number < self._next:
            if item is not None:
                self.late_dropped += 1
            return []
        if number in self._held:
            if item is not None:
                self.duplicates_dropped += 1
            return []
        self._held[number] = item
        if item is not None:
            self._waiting += 1
        released = self._release()
        while self._waiting >= self._max_held:
            lowest = min(self._held)
            self.gaps_skipped += lowest - self._next
            self._next = lowest
            released += self._release()
        return released

    def _release(self) -> list[T]:
        released: list[T] = []
        held = self._held
        assert self._next is not None
        while self._next in held:
            item = held.pop(self._next)
            self._next += 1
            if item is not None:
                self._waiting -= 1
                released.append(item)
        return released
