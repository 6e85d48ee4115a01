"""A live call's events over `WS /api/v1/calls/{id}/events`, fed by the process's
`CallEventBroker` (see `entrypoints.http.call_event_broker`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath

from application.calls.events import CallEnded, CallEvent
from application.calls.records import CallNotFound
from entrypoints.http.call_feed import encode_event
from entrypoints.http.v1.calls import find_call

if TYPE_CHECKING:
    from entrypoints.container import Container

log = logging.getLogger(__name__)


# --- the handler (mounted under the API router, so its bearer guard applies) --------


def call_events_handler(container: Container) -> Any:
    broker = container.call_events()

    @websocket("/calls/{call_ref:str}/events")
    async def call_events(socket: WebSocket[Any, Any, Any], call_ref: FromPath[str]) -> None:
        """Stream the call's events until it ends or the client leaves. `call_ref` is the
        call's id; a Twilio call sid is still accepted (deprecated), and resolved to it."""
        key = await _resolved(container, call_ref)
        if key is None:
            await socket.accept()  # so the client is told why, not just refused
            await socket.close(code=CALL_NOT_FOUND_CLOSE, reason="no such call")
            return
        # Subscribed before the handshake completes: once a client is connected, it
        # misses nothing published afterwards.
        with broker.subscribe(key) as queue:
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


CALL_NOT_FOUND_CLOSE: Final = 4404


async def _resolved(container: Container, call_ref: str) -> str | None:
    """The broker key (our id) of the call `call_ref` names: an id as it is, without a
    lookup, so a feed can be opened before its call is stored; a carrier reference
    through the call records (None when no call has it)."""
    try:
        return str(UUID(call_ref))
    except ValueError:
        pass
    try:
        call = await find_call(container.get_call(), call_ref)
    except CallNotFound:
        return None
    return str(call.id)


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
