"""The in-process broker behind the live call events feed.

The broker is per process: a call's feed is served only by the instance carrying
that call's media stream (a subscriber on another instance hears nothing). Each
subscriber has a bounded queue; a slow one loses its oldest events rather than ever
holding up the call that publishes them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Final

from application.calls.events import CallEvent

QUEUE_EVENTS: Final = 256


class CallEventBroker:
    """`CallObserver` fanning each call's events out to that call's subscribers.

    Runs on one event loop (the server's); `publish` never blocks.
    """

    def __init__(self, queue_events: int = QUEUE_EVENTS) -> None:
        self._queue_events = queue_events
        self._subscribers: dict[str, set[asyncio.Queue[CallEvent]]] = {}
        self.dropped = 0
        """Events lost to full subscriber queues, over the process's life."""

    def publish(self, call_id: str, event: CallEvent) -> None:
        for queue in self._subscribers.get(call_id, ()):
            if queue.full():
                queue.get_nowait()
                self.dropped += 1
            queue.put_nowait(event)

    @contextlib.contextmanager
    def subscribe(self, call_sid: str) -> Iterator[asyncio.Queue[CallEvent]]:
        """A queue of `call_sid`'s events from now on, until the block exits."""
        queue: asyncio.Queue[CallEvent] = asyncio.Queue(self._queue_events)
        self._subscribers.setdefault(call_sid, set()).add(queue)
        try:
            yield queue
        finally:
            queues = self._subscribers.get(call_sid, set())
            queues.discard(queue)
            if not queues:
                self._subscribers.pop(call_sid, None)

    def subscriber_count(self, call_sid: str) -> int:
        return len(self._subscribers.get(call_sid, ()))
