"""A live call's events over `WS /api/v1/calls/{id}/events`, fed by the process's
`CallEventBroker` (see `entrypoints.http.call_event_broker`).

A call that does not exist is closed with 4404; one that has already ended gets its
`ended` event, from its record, and a normal close, so a client is never left waiting
for events that will not come. A Twilio call sid is still accepted in place of the id
(deprecated) and resolved to it.
"""

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
from application.calls.records import CallNotFound, GetCallHandler
from application.errors import StorageUnavailable
from domain.calls import Call
from entrypoints.http.call_feed import encode_event, encode_final_state
from entrypoints.http.v1.calls import find_call

if TYPE_CHECKING:
    from entrypoints.container import Container

log = logging.getLogger(__name__)

CLOSE_NO_SUCH_CALL: Final = 4404
CLOSE_TRY_AGAIN_LATER: Final = 1013


# --- the handler (mounted under the API router, so its bearer guard applies) --------


def call_events_handler(container: Container) -> Any:
    broker = container.call_events()

    @websocket("/calls/{call_ref:str}/events")
    async def call_events(socket: WebSocket[Any, Any, Any], call_ref: FromPath[str]) -> None:
        """Stream the call's events until it ends or the client leaves."""
        try:
            key = str(UUID(call_ref))
        except ValueError:  # a carrier reference: its id comes from the record
            call = await _find(socket, call_ref, container.get_call())
            if call is None:
                return
            key = str(call.id)
        # Subscribed before the record is read and the handshake completes: once a
        # client is connected, it misses nothing published afterwards, and a call that
        # ends in between is seen ended either in its record or in the queue.
        with broker.subscribe(key) as queue:
            call = await _find(socket, call_ref, container.get_call())
            if call is None or not await _accept_if_live(socket, call):
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


async def _find(
    socket: WebSocket[Any, Any, Any], call_ref: str, get_call: GetCallHandler
) -> Call | None:
    """The call, or None with the socket closed: 4404 for no such call, 1013 while the
    records cannot be read (accepted first, so the client is told why)."""
    try:
        return await find_call(get_call, call_ref)
    except CallNotFound as missing:
        await socket.accept()
        await socket.close(CLOSE_NO_SUCH_CALL, missing.message)
    except StorageUnavailable:
        await socket.accept()
        await socket.close(CLOSE_TRY_AGAIN_LATER, "Call records are unavailable; try again.")
    return None


async def _accept_if_live(socket: WebSocket[Any, Any, Any], call: Call) -> bool:
    """Accept the subscriber; True if the call is live. For an ended call, its `ended`
    event then a normal close."""
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
