"""What a carrier's media-stream adapter needs of a WebSocket, shared by every carrier.

`TextSocket` is three methods any WebSocket library can be wrapped in, so no call leg
imports a web framework; `FrameSocket` adds binary frames for a leg whose audio travels
as raw bytes (the browser softphone); `IdleWatch` notices a stream that has gone silent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class TextSocket(Protocol):
    """The little of a WebSocket the call leg needs."""

    async def receive_text(self) -> str | None:
        """The next text frame, or None once the peer has closed."""
        ...

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


class FrameSocket(TextSocket, Protocol):
    """A `TextSocket` that also carries binary frames."""

    async def receive_frame(self) -> str | bytes | None:
        """The next frame, text or binary, or None once the peer has closed."""
        ...

    async def send_bytes(self, data: bytes) -> None: ...


class IdleWatch:
    """`TimeoutError` in the reading task once one `receive` has waited `idle_s`.

    The same as `asyncio.timeout(idle_s)` around each receive, but with one timer per
    stream that re-arms itself every `idle_s` rather than a timer set and cancelled per
    frame (a media stream brings 50 frames a second).
    """

    def __init__(self, idle_s: float) -> None:
        self._idle_s = idle_s
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        self._task = task
        self._waiting_since: float | None = None
        self._fired = False
        self._timer = self._loop.call_later(idle_s, self._check)

    async def receive(self, socket: TextSocket) -> str | None:
        return await self.wait(socket.receive_text)

    async def wait(self, receive: Callable[[], Awaitable[T]]) -> T:
        """`receive()`, raising `TimeoutError` once it has waited `idle_s`."""
        cancelling = self._task.cancelling()
        self._waiting_since = self._loop.time()
        try:
            return await receive()
        except asyncio.CancelledError:
            if self._fired:
                self._fired = False
                if self._task.uncancel() <= cancelling:  # ours alone, as asyncio.timeout
                    raise TimeoutError from None
            raise
        finally:
            self._waiting_since = None

    def stop(self) -> None:
        self._timer.cancel()

    def _check(self) -> None:
        if self._task.done():
            return
        since, now = self._waiting_since, self._loop.time()
        if since is not None and now - since >= self._idle_s:
            self._fired = True
            self._task.cancel()
            return
        self._timer = self._loop.call_at(
            (now if since is None else since) + self._idle_s, self._check
        )
