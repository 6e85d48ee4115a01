"""A live call's events over `WS /api/v1/calls/{call_sid}/events`, and the in-process
broker that feeds it.

The broker is per process: a call's feed is served only by the instance carrying
that call's media stream (a subscriber on another instance hears nothing). Each
subscriber has a bounded queue; a slow one loses its oldest events rather than ever
holding up the call that publishes them. A call that does not exist is closed with
4404; one that has already ended gets its `ended` event, from its record, and a normal
close, so a client is never left waiting for events that will not come.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
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
from application.calls.records import CallNotFound, GetCallHandler
from application.errors import StorageUnavailable
from domain.calls import Call

if TYPE_CHECKING:
    from entrypoints.container import Container

log = logging.getLogger(__name__)

QUEUE_EVENTS: Final = 256
RECENT_ENDS: Final = 1024
"""Calls whose end the broker remembers, for a subscriber that comes just after it."""
CLOSE_NO_SUCH_CALL: Final = 4404
CLOSE_TRY_AGAIN_LATER: Final = 1013


class CallEventBroker:
    """`CallObserver` fanning each call's events out to that call's subscribers.

    Runs on one event loop (the server's); `publish` never blocks.
    """

    def __init__(self, queue_events: int = QUEUE_EVENTS, recent_ends: int = RECENT_ENDS) -> None:
        self._queue_events, self._recent_ends = queue_events, recent_ends
        self._subscribers: dict[str, set[asyncio.Queue[CallEvent]]] = {}
        self._ended: OrderedDict[str, CallEnded] = OrderedDict()
        self.dropped = 0
        """Events lost to full subscriber queues, over the process's life."""

    def publish(self, call_sid: str, event: CallEvent) -> None:
        if isinstance(event, CallEnded):
            self._ended[call_sid] = event
            while len(self._ended) > self._recent_ends:
                self._ended.popitem(last=False)
        for queue in self._subscribers.get(call_sid, ()):
            if queue.full():
                queue.get_nowait()
                self.dropped += 1
            queue.put_nowait(event)

    @contextlib.contextmanager
    def subscribe(self, call_sid: str) -> Iterator[asyncio.Queue[CallEvent]]:
        """A queue of `call_sid`'s events from now on, until the block exits; for a
        call that ended recently, its `CallEnded` is waiting in it already (the record
        of its end may not be stored yet)."""
        queue: asyncio.Queue[CallEvent] = asyncio.Queue(self._queue_events)
        if (ended := self._ended.get(call_sid)) is not None:
            queue.put_nowait(ended)
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


def encode_final_state(call: Call) -> str:
    """The `ended` event of a call that has ended, built from its stored record."""
    reason = call.end_reason.value if call.end_reason is not None else "unknown"
    return _encoder.encode(EndedOut(reason, call.next_step.value)).decode()


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
        # Subscribed before the record is read and the handshake completes: once a
        # client is connected, it misses nothing published afterwards, and a call that
        # ends in between is seen ended either in its record or in the queue.
        with broker.subscribe(call_sid) as queue:
            if not await _accept_if_live(socket, call_sid, container.get_call()):
                return
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


async def _accept_if_live(
    socket: WebSocket[Any, Any, Any], call_sid: str, get_call: GetCallHandler
) -> bool:
    """Accept the subscriber; True if the call is live. Otherwise the socket is closed:
    4404 for no such call, the `ended` event then a normal close for an ended one, 1013
    while the records cannot be read."""
    try:
        call = await get_call(call_sid)
    except CallNotFound as missing:
        await socket.accept()
        await socket.close(CLOSE_NO_SUCH_CALL, missing.message)
        return False
    except StorageUnavailable:
        await socket.accept()
        await socket.close(CLOSE_TRY_AGAIN_LATER, "Call records are unavailable; try again.")
        return False
    await socket.accept()
    if call.is_live:
        return True
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await socket.send_text(encode_final_state(call))
        await socket.close()
    return False


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
