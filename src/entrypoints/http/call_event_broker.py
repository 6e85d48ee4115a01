"""The in-process broker behind the live call events feed, keyed by the call's id.

The broker is per process: a call's feed is served only by the instance carrying
that call's media stream (a subscriber on another instance hears nothing). Each
subscriber has a bounded queue; a slow one loses its oldest events rather than ever
holding up the call that publishes them. The ends of recent calls are remembered, so
a subscriber arriving just after a call ended (its record perhaps not stored yet)
still gets its `ended` event.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Iterator
from typing import Final

from application.calls.events import CallEnded, CallEvent

QUEUE_EVENTS: Final = 256
RECENT_ENDS: Final = 1024
"""Calls whose end the broker remembers, for a subscriber that comes just after it."""


class CallEventBroker:
    """`CallObserver` fanning each call's events out to that call's subscribers.

    Runs on one event loop (the server's); `publish` never blocks.
    """

    def __init__(self, queue_events: int = QUEUE_EVENTS, recent_ends: int = RECENT_ENDS) -> None:
        self._queue_events, self._recent_ends = queue_events, recent_ends
        self._subscribers: dict[str, set[asyncio.Queue[CallEvent]]] = {}
        self._ended: OrderedDict[str, CallEnded] = OrderedDict()
        self._watchers: set[asyncio.Queue[tuple[str, CallEvent]]] = set()
        self.dropped = 0
        """Events lost to full subscriber queues, over the process's life."""

    def publish(self, call_id: str, event: CallEvent) -> None:
        if isinstance(event, CallEnded):
            self._ended[call_id] = event
            while len(self._ended) > self._recent_ends:
                self._ended.popitem(last=False)
        for queue in self._subscribers.get(call_id, ()):
            if queue.full():
                queue.get_nowait()
                self.dropped += 1
            queue.put_nowait(event)
        for watcher in self._watchers:
            if watcher.full():
                watcher.get_nowait()
                self.dropped += 1
            watcher.put_nowait((call_id, event))

    @contextlib.contextmanager
    def watch_all(self) -> Iterator[asyncio.Queue[tuple[str, CallEvent]]]:
        """Every call's events, each with its call's id, until the block exits (the
        console's live page)."""
        queue: asyncio.Queue[tuple[str, CallEvent]] = asyncio.Queue(self._queue_events)
        self._watchers.add(queue)
        try:
            yield queue
        finally:
            self._watchers.discard(queue)

    @contextlib.contextmanager
    def subscribe(self, call_id: str) -> Iterator[asyncio.Queue[CallEvent]]:
        """A queue of `call_id`'s events from now on, until the block exits; for a
        call that ended recently, its `CallEnded` is waiting in it already (the record
        of its end may not be stored yet)."""
        queue: asyncio.Queue[CallEvent] = asyncio.Queue(self._queue_events)
        if (ended := self._ended.get(call_id)) is not None:
            queue.put_nowait(ended)
        self._subscribers.setdefault(call_id, set()).add(queue)
        try:
            yield queue
        finally:
            queues = self._subscribers.get(call_id, set())
            queues.discard(queue)
            if not queues:
                self._subscribers.pop(call_id, None)

    def subscriber_count(self, call_id: str) -> int:
        return len(self._subscribers.get(call_id, ()))
