"""The Voice Agent's WebSocket: `websockets`' sans-I/O client protocol, driven straight
from the event loop's callbacks.

`websockets.asyncio.client` costs, per message, a future and a task wake-up in its
receive assembler and an async context manager plus a drain per send. A call moves
about 100 messages a second over this socket, so this client does the I/O itself:
frames are parsed as bytes arrive and whole messages queue for the one reader, which is
woken once per read however many arrived; a send is written at once. The library still
does the WebSocket protocol: the handshake and its checks, framing, masking, size
limits, answering pings and the closing handshake; this module adds what its asyncio
client would: UTF-8 checks of text messages, our own pings, timeouts and flow control.
See docs/decisions.md ("The Deepgram socket on sans-I/O") for the measurements.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections import deque
from collections.abc import AsyncIterator, Mapping
from typing import Final, cast

from websockets.client import ClientProtocol
from websockets.exceptions import InvalidHandshake, InvalidURI
from websockets.frames import Frame, Opcode
from websockets.http11 import USER_AGENT
from websockets.protocol import State
from websockets.uri import parse_uri

logger = logging.getLogger(__name__)

CLOSE_TIMEOUT_S: Final = 5.0
"""After a close frame, how long the service has to close TCP before we drop it."""
PING_INTERVAL_S: Final = 20.0
"""How long after the handshake, or after the last pong, we send a ping."""
PING_TIMEOUT_S: Final = 20.0
"""A pong that takes longer than this means the connection is dead."""
MAX_WRITE_BUFFER_BYTES: Final = 1 << 20
"""Unsent bytes at which the service counts as gone (2 min of caller audio)."""
_INBOX_HIGH, _INBOX_LOW = 256, 32
"""Stop reading the socket at this many unread messages; read again below the low mark."""


class _Failed(Exception):
    """We failed the connection while handling a frame: drop the frames after it."""


Message = str | bytes
"""A whole text (decoded) or binary message."""


class AgentSocket(asyncio.Protocol):
    """One client WebSocket; build it with `open`.

    Reading: `messages()` (one consumer) yields each message, then ends when the
    connection is closed, whoever closed it. Writing: `send_text` / `send_binary`
    write at once and do nothing once the connection is no longer open (the reader
    sees the end). `close_code` and `close_reason` describe the end once it happened.
    """

    def __init__(
        self,
        protocol: ClientProtocol,
        headers: Mapping[str, str],
        *,
        ping_interval_s: float = PING_INTERVAL_S,
        ping_timeout_s: float = PING_TIMEOUT_S,
        close_timeout_s: float = CLOSE_TIMEOUT_S,
        max_write_buffer_bytes: int = MAX_WRITE_BUFFER_BYTES,
    ) -> None:
        self._protocol = protocol
        self._headers = headers
        self._ping_interval_s = ping_interval_s
        self._ping_timeout_s = ping_timeout_s
        self._close_timeout_s = close_timeout_s
        self._max_write_buffer_bytes = max_write_buffer_bytes
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._opened: asyncio.Future[None] = self._loop.create_future()
        self._lost: asyncio.Future[None] = self._loop.create_future()
        self._inbox: deque[Message] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._fragments: list[bytes] = []
        self._fragmented: Opcode | None = None
        self._close_timer: asyncio.TimerHandle | None = None
        self._ping_timer: asyncio.TimerHandle | None = None
        """The next ping, or while a pong is awaited, the abort for want of it."""
        self._pong_awaited = False
        self.aborted_reason: str | None = None
        """Why we dropped the connection without a closing handshake, if we did."""

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        headers: Mapping[str, str],
        max_size: int,
        ping_interval_s: float = PING_INTERVAL_S,
        ping_timeout_s: float = PING_TIMEOUT_S,
        close_timeout_s: float = CLOSE_TIMEOUT_S,
        max_write_buffer_bytes: int = MAX_WRITE_BUFFER_BYTES,
    ) -> AgentSocket:
        """Connect and complete the opening handshake (bound it with a timeout).

        Raises `InvalidURI`, `OSError` (DNS, TCP, TLS) or `InvalidHandshake`
        (`InvalidStatus` when the service answers with an HTTP error). The keyword
        timeouts and limit default to this module's constants of the same names.
        """
        try:
            uri = parse_uri(url)
        except ValueError as error:  # urllib's own complaints: a bad port, a bad IPv6 host
            raise InvalidURI(url, str(error)) from None
        protocol = ClientProtocol(uri, max_size=max_size)
        socket = cls(
            protocol,
            headers,
            ping_interval_s=ping_interval_s,
            ping_timeout_s=ping_timeout_s,
            close_timeout_s=close_timeout_s,
            max_write_buffer_bytes=max_write_buffer_bytes,
        )
        context = ssl.create_default_context() if uri.secure else None
        transport, _ = await socket._loop.create_connection(
            lambda: socket,
            uri.host,
            uri.port,
            ssl=context,
            server_hostname=uri.host if context is not None else None,
        )
        try:
            await socket._opened
        except BaseException:
            transport.abort()
            raise
        if not socket._lost.done():  # else nothing is left to cancel the timer
            socket._ping_timer = socket._loop.call_later(ping_interval_s, socket._ping)
        return socket

    # --- the application's side ------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._protocol.state is State.OPEN

    @property
    def close_code(self) -> int | None:
        """The close code received (1006 if none), once the connection is closed."""
        return self._protocol.close_code

    @property
    def close_reason(self) -> str | None:
        return self._protocol.close_reason

    async def messages(self) -> AsyncIterator[Message]:
        inbox = self._inbox
        while True:
            while inbox:
                if self._reading_paused and len(inbox) <= _INBOX_LOW:
                    self._reading_paused = False
                    if self._transport is not None:
                        self._transport.resume_reading()
                yield inbox.popleft()
            if self._lost.done():
                return
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def take_waiting_binary(self, max_bytes: int) -> list[bytes]:
        """Binary messages already waiting right after the one `messages()` last
        yielded, at most `max_bytes` of them in all, taken out of the queue (so a reader
        can join consecutive audio)."""
        inbox, taken, total = self._inbox, list[bytes](), 0
        while inbox:
            head = inbox[0]
            if not isinstance(head, bytes) or total + len(head) > max_bytes:
                break
            total += len(head)
            inbox.popleft()
            taken.append(head)
        return taken

    def send_binary(self, data: bytes) -> None:
        if self._protocol.state is State.OPEN:
            self._protocol.send_binary(data)
            self._write()

    def send_text(self, data: bytes) -> None:
        """`data`: the message, already UTF-8 encoded."""
        if self._protocol.state is State.OPEN:
            self._protocol.send_text(data)
            self._write()

    async def wait_closed(self, timeout_s: float) -> bool:
        """Whether the connection ended within `timeout_s`."""
        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.shield(self._lost)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Closing handshake (code 1000), bounded by the close timeout. Idempotent."""
        if self._protocol.state is State.OPEN:
            self._protocol.send_close(1000)
            self._write()
        if self._reading_paused and not self._lost.done():
            # The service's answer lies behind the unread messages: read on, to the end.
            self._reading_paused = False
            assert self._transport is not None
            self._transport.resume_reading()
        if not await self.wait_closed(self._close_timeout_s):
            self.abort("the service did not close the connection")
            await asyncio.shield(self._lost)

    def abort(self, reason: str) -> None:
        """Drop the TCP connection now, without a closing handshake."""
        if self._transport is not None and not self._lost.done():
            if self.aborted_reason is None:
                self.aborted_reason = reason
            self._transport.abort()
            # Nothing more will be read: the protocol is CLOSED (close code 1006) now, so
            # sends stop at once instead of writing to a dead transport (which asyncio
            # logs, once per write) until the loop delivers `connection_lost`.
            self._protocol.receive_eof()

    # --- the event loop's side -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        protocol = self._protocol
        request = protocol.connect()
        request.headers["User-Agent"] = USER_AGENT
        for name, value in self._headers.items():
            if name in request.headers:  # e.g. Authorization from user:password@ in the URL
                del request.headers[name]
            request.headers[name] = value
        protocol.send_request(request)
        self._write()

    def data_received(self, data: bytes) -> None:
        protocol = self._protocol
        protocol.receive_data(data)
        try:
            for event in protocol.events_received():
                if type(event) is Frame:
                    self._on_frame(event)
                elif not self._opened.done():  # the handshake's response
                    if protocol.handshake_exc is None:
                        self._opened.set_result(None)
                    else:
                        self._opened.set_exception(protocol.handshake_exc)
        except _Failed:
            pass  # the frames parsed after the failing one are not delivered
        self._write()
        if not self._opened.done() and protocol.handshake_exc is not None:
            self._opened.set_exception(protocol.handshake_exc)  # no valid response at all
        if self._inbox:
            self._wake()
            if (
                not self._reading_paused
                and len(self._inbox) >= _INBOX_HIGH
                and protocol.state is State.OPEN  # closing: read to the end (see `close`)
            ):
                self._reading_paused = True
                assert self._transport is not None
                self._transport.pause_reading()

    def eof_received(self) -> None:
        self._protocol.receive_eof()
        self._write()
        # Returning None lets the transport close: WebSocket never writes after EOF.

    def connection_lost(self, exc: Exception | None) -> None:
        self._protocol.receive_eof()  # idempotent; the state becomes CLOSED
        for timer in (self._close_timer, self._ping_timer):
            if timer is not None:
                timer.cancel()
        if not self._opened.done():
            self._opened.set_exception(
                self._protocol.handshake_exc
                or InvalidHandshake("the connection closed during the handshake")
            )
            self._opened.exception()  # retrieved here if `open` has gone already
        self._lost.set_result(None)
        self._wake()

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False

    # --- internals -------------------------------------------------------------------

    def _on_frame(self, frame: Frame) -> None:
        opcode, data = frame.opcode, bytes(frame.data)  # the parser hands out a bytearray
        if opcode is Opcode.BINARY or opcode is Opcode.TEXT:
            if frame.fin:
                self._deliver(opcode, data)
            else:
                self._fragmented, self._fragments = opcode, [data]
        elif opcode is Opcode.CONT:
            self._fragments.append(data)
            if frame.fin and self._fragmented is not None:
                self._deliver(self._fragmented, b"".join(self._fragments))
                self._fragmented, self._fragments = None, []
        elif opcode is Opcode.PONG:
            self._on_pong()
        # PING (answered by the protocol) and CLOSE (the closing handshake) need nothing.

    def _deliver(self, opcode: Opcode, data: bytes) -> None:
        if opcode is Opcode.BINARY:
            self._inbox.append(data)
            return
        try:
            self._inbox.append(data.decode())
        except UnicodeDecodeError as error:
            # RFC 6455 7.1.7: once failed, process no more data (the protocol drops what
            # it has not parsed yet; `_Failed` skips the frames it had).
            self._protocol.fail(1007, f"invalid UTF-8 at position {error.start}")
            raise _Failed from None

    def _write(self) -> None:
        transport = self._transport
        assert transport is not None
        for data in self._protocol.data_to_send():
            if data:
                transport.write(data)
            elif transport.can_write_eof():
                try:
                    transport.write_eof()
                except Exception as error:  # uvloop may refuse when closing
                    logger.debug("half-closing the agent socket failed: %r", error)
            else:
                transport.close()
        if self._protocol.close_expected() and self._close_timer is None:
            self._close_timer = self._loop.call_later(
                self._close_timeout_s, self.abort, "the service did not close the connection"
            )
        if self._writing_paused:
            unsent = transport.get_write_buffer_size()
            if unsent > self._max_write_buffer_bytes:
                self.abort(f"the service stopped reading ({unsent} bytes unsent)")

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _ping(self) -> None:
        if self._protocol.state is State.OPEN:
            self._protocol.send_ping(os.urandom(4))
            self._pong_awaited = True
            self._ping_timer = self._loop.call_later(self._ping_timeout_s, self._pong_overdue)
            self._write()

    def _on_pong(self) -> None:
        # Any pong while one is awaited shows the service alive, whatever its payload.
        if self._pong_awaited:
            self._pong_awaited = False
            if self._ping_timer is not None:
                self._ping_timer.cancel()
            self._ping_timer = self._loop.call_later(self._ping_interval_s, self._ping)

    def _pong_overdue(self) -> None:
        self.abort(f"no pong within {self._ping_timeout_s:g} s")


__all__ = ["AgentSocket", "Message"]
