"""Live call events across processes and instances, through Postgres LISTEN/NOTIFY.

A call's events are published in the process that carries its media stream; a
subscriber may be connected to any other worker or instance. Each process sends what
it publishes as a NOTIFY on one channel and LISTENs on it, handing what the others sent
to its own broker. The payload is opaque text here (the feed's wire format); Postgres
limits it to 8000 bytes, so a longer one is dropped and counted, never sent cut.

Best effort, like the feed itself: publishing never blocks or raises; while the
database is out of reach events are dropped (counted) and the relay reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any, Final

import asyncpg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

CHANNEL: Final = "frontdesk_call_events"
MAX_PAYLOAD_BYTES: Final = 7900
"""Under Postgres's 8000-byte NOTIFY limit, with room for the envelope."""
QUEUE_EVENTS: Final = 1024
RECONNECT_S: Final = 1.0

Deliver = Callable[[str, str], None]
"""Called with (call id, payload) for each event another process published."""


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """`postgresql+asyncpg://...` as asyncpg takes it (`postgresql://...`)."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PostgresEventRelay:
    def __init__(self, dsn: str, deliver: Deliver, *, reconnect_s: float = RECONNECT_S) -> None:
        self._dsn, self._deliver, self._reconnect_s = dsn, deliver, reconnect_s
        self.origin = uuid.uuid4().hex
        """This process, so it skips its own notifications."""
        self._outbox: asyncio.Queue[str] = asyncio.Queue(QUEUE_EVENTS)
        self.listening = asyncio.Event()
        """Set while LISTEN is in force (tests wait for it; readiness could too)."""
        self.dropped = 0
        """Events not relayed: too large, queue full, or the database out of reach."""
        self.received = 0

    def __repr__(self) -> str:
        return f"PostgresEventRelay(channel={CHANNEL!r})"

    def send(self, call_id: str, payload: str) -> None:
        """Queue `payload` for the other processes; returns at once, never raises."""
        message = json.dumps({"o": self.origin, "c": call_id, "e": payload})
        if len(message.encode()) > MAX_PAYLOAD_BYTES:
            self.dropped += 1
            return
        try:
            self._outbox.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1

    async def run(self) -> None:
        """LISTEN and NOTIFY until cancelled, reconnecting after a failure."""
        while True:
            try:
                await self._session()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("call events relay lost its connection: %s", error.__class__.__name__)
            finally:
                self.listening.clear()
            await asyncio.sleep(self._reconnect_s)

    async def _session(self) -> None:
        connection: Any = await asyncpg.connect(self._dsn)
        try:
            await connection.add_listener(CHANNEL, self._on_notification)
            self.listening.set()
            while True:
                message = await self._outbox.get()
                await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, message)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 2)

    def _on_notification(self, _connection: Any, _pid: int, _channel: str, text: str) -> None:
        try:
            message = json.loads(text)
            origin, call_id, payload = message["o"], message["c"], message["e"]
        except (ValueError, KeyError, TypeError):
            log.debug("ignored a malformed call event notification")
            return
        if origin == self.origin:
            return
        self.received += 1
        self._deliver(str(call_id), str(payload))
