"""The carriers' media-stream WebSockets served on bare ASGI, in front of the Litestar app.

Every call moves about 100 media messages a second through this route, so it skips
Litestar's per-message layers (the connection-state wrappers around `receive` and
`send`, the exception middleware's `send` wrapper, `send_text`'s event building): the
handler speaks ASGI to the server directly. Every other request, including the other
WebSocket routes and the lifespan, goes to the Litestar app unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

log = logging.getLogger(__name__)

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
"""Any ASGI 3 app; loosely typed so both Litestar's and uvicorn's typings fit."""


class AsgiWebSocket:
    """One ASGI WebSocket connection, as the carrier adapters' `TextSocket` (and the
    browser softphone's `FrameSocket`).

    Before `accept`, `close` refuses the handshake (HTTP 403). Once the peer has gone,
    `receive_text` keeps returning None rather than waiting for a message that never
    comes, and `close` does nothing; other sends after that are the server's to ignore
    or refuse.
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._scope, self._receive, self._send = scope, receive, send
        self._connected = False
        self._disconnected = False

    def header(self, name: bytes) -> str | None:
        """The first request header called `name` (lower-case bytes), if any."""
        for key, value in self._scope["headers"]:
            if key == name:
                return str(value.decode("latin-1"))
        return None

    def query_params(self) -> dict[str, str]:
        """The handshake URL's query parameters (the first value of each)."""
        raw = self._scope.get("query_string", b"")
        pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, max_num_fields=20)
        params: dict[str, str] = {}
        for name, value in pairs:
            params.setdefault(name, value)
        return params

    @property
    def client_host(self) -> str | None:
        client = self._scope.get("client")
        return str(client[0]) if client else None

    async def accept(self) -> None:
        """Complete the handshake; a peer that left meanwhile shows as a disconnect to
        the next `receive_text`."""
        if not self._connected:
            message = await self._receive()
            self._connected = True
            if message["type"] == "websocket.disconnect":
                self._disconnected = True
                return
        await self._send({"type": "websocket.accept"})

    async def receive_text(self) -> str | None:
        if self._disconnected:
            return None
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self._disconnected = True
            return None
        text = message.get("text")
        return text if isinstance(text, str) else ""  # a binary frame: malformed to the codec

    async def receive_frame(self) -> str | bytes | None:
        """The next frame as it came (text or binary); None once the peer has gone."""
        if self._disconnected:
            return None
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self._disconnected = True
            return None
        text = message.get("text")
        if isinstance(text, str):
            return text
        data = message.get("bytes")
        return data if isinstance(data, bytes) else b""

    async def send_text(self, data: str) -> None:
        await self._send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self._send({"type": "websocket.send", "bytes": data})

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close (before `accept`: refuse) the socket; nothing to do once the peer has gone
        (it dropped the connection, or the server closed it for a frame over its limit),
        where the server would refuse the message with an error."""
        if self._disconnected:
            return
        await self._send({"type": "websocket.close", "code": code, "reason": reason})


MediaHandler = Callable[[AsgiWebSocket], Awaitable[None]]


def with_media_streams(app: ASGIApp, handlers: Mapping[str, MediaHandler]) -> ASGIApp:
    """`app`, with WebSocket connections to each path of `handlers` served by its handler.

    An exception escaping the handler is logged and the socket closed (1011), as the
    app's exception middleware would; a handler is expected to end its calls itself.
    """

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        handler = handlers.get(scope["path"]) if scope["type"] == "websocket" else None
        if handler is None:
            await app(scope, receive, send)
            return
        socket = AsgiWebSocket(scope, receive, send)
        try:
            await handler(socket)
        except Exception:
            log.exception("media stream handler failed")
            await _close_quietly(socket)

    return asgi


async def _close_quietly(socket: AsgiWebSocket) -> None:
    try:
        await socket.close(1011, "internal error")
    except Exception as error:  # the socket is already gone
        log.debug("closing a failed media stream failed: %r", error)


__all__ = ["AsgiWebSocket", "MediaHandler", "with_media_streams"]
