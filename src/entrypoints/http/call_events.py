"""A live call's events over `WS /api/v1/calls/{call_sid}/events`, and the in-process
broker that feeds it.

The broker is per process: a call's feed is served only by the instance carrying
that call's media stream (a subscriber on another instance hears nothing). Each
subscriber has a bounded queue; a slow one loses its oldest events rather than ever
holding up the call that publishes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath

from application.calls.events import (
    AgentReconnected,
    BargedIn,
    CallEnded,
    CallEvent,
    ToolRan,
    TranscriptHeard,
)

if TYPE_CHECKING:
    from entrypoints.container import Container

log = logging.getLogger(__name__)

QUEUE_EVENTS: Final = 256


class CallEventBroker:
    """`CallObserver` fanning each call's events out to that call's subscribers.

    Runs on one event loop (the server's); `publish` never blocks.
    """

    def __init__(self, queue_events: int = QUEUE_EVENTS) -> None:
        self._queue_events = queue_events
        self._subscribers: dict[str, set[asyncio.Queue[CallEvent]]] = {}
        self._watchers: set[asyncio.Queue[tuple[str, CallEvent]]] = set()
        self.dropped = 0
        """Events lost to full subscriber queues, over the process's life."""

    def publish(self, call_sid: str, event: CallEvent) -> None:
        for queue in self._subscribers.get(call_sid, ()):
            if queue.full():
                queue.get_nowait()
                self.dropped += 1
            queue.put_nowait(event)
        for watcher in self._watchers:
            if watcher.full():
                watcher.get_nowait()
                self.dropped += 1
            watcher.put_nowait((call_sid, event))

    @contextlib.contextmanager
    def watch_all(self) -> Iterator[asyncio.Queue[tuple[str, CallEvent]]]:
        """Every call's events, each with its call's reference, until the block exits
        (the console's live page)."""
        queue: asyncio.Queue[tuple[str, CallEvent]] = asyncio.Queue(self._queue_events)
        self._watchers.add(queue)
        try:
            yield queue
        finally:
            self._watchers.discard(queue)

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


# --- wire format: one JSON text frame per event -----------------------------------


class _Out(msgspec.Struct, frozen=True, tag_field="type"):
    pass


class TranscriptOut(_Out, frozen=True, tag="transcript"):
    speaker: str
    text: str


class ToolOut(_Out, frozen=True, tag="tool"):
    name: str
    arguments: str
    outcome: str
    duration_ms: float


class BargeInOut(_Out, frozen=True, tag="barge_in"):
    pass


class AgentReconnectedOut(_Out, frozen=True, tag="agent_reconnected"):
    attempt: int
    reason: str


class EndedOut(_Out, frozen=True, tag="ended"):
    reason: str
    next_step: str


_encoder = msgspec.json.Encoder()


def encode_event(event: CallEvent) -> str:
    out: _Out
    match event:
        case TranscriptHeard(speaker, text):
            out = TranscriptOut(speaker.value, text)
        case ToolRan(name, arguments, outcome, duration_ms):
            out = ToolOut(name, arguments, outcome, duration_ms)
        case BargedIn():
            out = BargeInOut()
        case AgentReconnected(attempt, reason):
            out = AgentReconnectedOut(attempt, reason)
        case CallEnded(reason, next_step):
            out = EndedOut(reason.value, next_step.value)
    return _encoder.encode(out).decode()


# --- the handler (mounted under the API router, so its bearer guard applies) --------


def call_events_handler(container: Container) -> Any:
    broker = container.call_events()

    @websocket("/calls/{call_sid:str}/events")
    async def call_events(socket: WebSocket[Any, Any, Any], call_sid: FromPath[str]) -> None:
        """Stream the call's events until it ends or the client leaves."""
        # Subscribed before the handshake completes: once a client is connected, it
        # misses nothing published afterwards.
        with broker.subscribe(call_sid) as queue:
            await socket.accept()
            sender = asyncio.create_task(_send_until_ended(socket, queue))
            gone = asyncio.create_task(_until_disconnected(socket))
            try:
                await asyncio.wait({sender, gone}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (sender, gone):
                    task.cancel()
                await asyncio.gather(sender, gone, return_exceptions=True)
            if sender.done() and not sender.cancelled() and sender.exception() is None:
                with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                    await socket.close()

    return call_events


async def _send_until_ended(
    socket: WebSocket[Any, Any, Any], queue: asyncio.Queue[CallEvent]
) -> None:
    while True:
        event = await queue.get()
        await socket.send_text(encode_event(event))
        if isinstance(event, CallEnded):
            return


async def _until_disconnected(socket: WebSocket[Any, Any, Any]) -> None:
    while (await socket.receive())["type"] != "websocket.disconnect":
        pass
