"""Serving with a graceful drain: on SIGTERM the instance stops admitting calls, lets
live calls finish for up to DRAIN_TIMEOUT_S, ends the rest (the caller is put through to
the front desk with an apology), answers Twilio's after-stream requests for them, then
exits 0.

uvicorn's own SIGTERM handling closes every WebSocket at once (code 1012), which would
cut callers off mid-sentence; this server defers that until the calls are over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Callable, Generator
from types import FrameType
from typing import Any

import uvicorn

from entrypoints.http.capacity import CallCapacity

log = logging.getLogger(__name__)


def uvicorn_config(app: Any, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for `app`, as every server of ours runs it: no `server`
    header (naming the server and its version helps only an attacker), and the `Date`
    header kept (RFC 9110 asks an origin server with a clock to send it)."""
    return uvicorn.Config(app, server_header=False, date_header=True, **options)


class DrainingServer(uvicorn.Server):
    def __init__(
        self,
        config: uvicorn.Config,
        *,
        capacity: CallCapacity,
        drain_timeout_s: float,
        on_serving: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(config)
        self._capacity, self._drain_timeout_s = capacity, drain_timeout_s
        self._on_serving = on_serving
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain: asyncio.Task[None] | None = None

    async def serve(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)  # type: ignore[arg-type]

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._on_serving is not None:
            self._on_serving()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Like uvicorn's, without re-raising the signal on the way out: a drained
        shutdown is a clean exit (status 0)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and self._drain is None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._start_drain)
            return
        super().handle_exit(sig, frame)  # Ctrl-C, or a second SIGTERM: stop now

    def _start_drain(self) -> None:
        if self._drain is None:
            self._drain = asyncio.get_running_loop().create_task(self._drain_then_exit())

    async def _drain_then_exit(self) -> None:
        capacity = self._capacity
        capacity.start_draining()
        log.info(
            "draining: %d live call(s), up to %.0f s", capacity.live_calls, self._drain_timeout_s
        )
        try:
            async with asyncio.timeout(self._drain_timeout_s):
                await capacity.wait_idle()
        except TimeoutError:
            remaining = capacity.live_tasks()
            log.warning("drain timeout: ending %d call(s)", len(remaining))
            for task in remaining:
                task.cancel()
            await asyncio.gather(*remaining, return_exceptions=True)
            await capacity.wait_idle()  # their hand-offs to Twilio: bounded by the capacity
        self.should_exit = True
