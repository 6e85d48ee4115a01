"""Following a call's events feed (`WS /api/v1/calls/{id}/events`) and printing it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TextIO

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from entrypoints.http.call_feed import (
    AgentReconnectedOut,
    AnyFeedEvent,
    BargeInOut,
    EndedOut,
    ToolOut,
    TranscriptOut,
    decode_event,
)

TranscriptEvent = TranscriptOut
ToolEvent = ToolOut
BargeInEvent = BargeInOut
EndedEvent = EndedOut
FeedEvent = AnyFeedEvent


def events_url(server_url: str, call_sid: str) -> str:
    """The feed's ws(s) URL on the server the client talks to."""
    base = server_url.rstrip("/")
    scheme, _, rest = base.partition("://")
    ws_scheme = {"https": "wss", "http": "ws"}.get(scheme, scheme)
    return f"{ws_scheme}://{rest}/api/v1/calls/{call_sid}/events"


async def open_feed(server_url: str, call_sid: str, api_key: str) -> ClientConnection:
    """Subscribe; raises `websockets.exceptions.InvalidStatus` when refused."""
    return await connect(
        events_url(server_url, call_sid),
        additional_headers={"Authorization": f"Bearer {api_key}"},
    )


async def events(connection: ClientConnection) -> AsyncIterator[FeedEvent]:
    """Each event until the call ends or the server closes the feed; unknown ones skipped."""
    try:
        async for frame in connection:
            try:
                event = decode_event(frame)
            except msgspec.DecodeError:
                continue
            yield event
            if isinstance(event, EndedEvent):
                return
    except ConnectionClosed:
        return


def describe(event: FeedEvent) -> str:
    """One line for the terminal."""
    match event:
        case TranscriptEvent(speaker, text):
            return f"{speaker:>6}: {text}"
        case ToolEvent(name, arguments, outcome, duration_ms):
            return f"  tool: {name}({arguments}) -> {outcome} in {duration_ms:.0f} ms"
        case BargeInEvent():
            return "  (caller spoke over the agent: playback cleared)"
        case AgentReconnectedOut(attempt, reason):
            return f"  (voice agent reconnected, attempt {attempt}: {reason})"
        case EndedEvent(reason, next_step):
            return f"  call ended: {reason}; next step: {next_step}"
    return repr(event)  # pragma: no cover


def print_event(event: FeedEvent, out: TextIO) -> None:
    print(describe(event), file=out, flush=True)
