"""What frontdesk's own code costs per audio message, in process, without sockets.

The two hot paths of a call, each fed N messages by an in-memory socket that never
waits, so the figure is our Python alone (no kernel, no event-loop wake-ups, no
WebSocket library):

- caller -> agent: `TwilioCallLeg.events` (decode the `media` frame, the idle watch)
  -> the caller pump's dispatch -> `AgentLink.send_audio` -> a connection that drops
  the bytes;
- agent -> caller: `DeepgramAgentConnection.events` (over a socket stand-in that yields
  binary messages) -> `AgentLink.events` (the silence watch) -> the agent pump's
  dispatch -> `TwilioCallLeg.play` (the lock, the encoder) -> a socket that drops the text.

    uv run python -m benchmarks.hot_path
    uv run python -m benchmarks.hot_path --messages 500000

Compare with `benchmarks.relay_floor` (the libraries and the kernel, no frontdesk code)
and `benchmarks.calls` (everything, with the harness).
"""

from __future__ import annotations

import argparse
import base64
import json
import time
from collections.abc import AsyncIterator

import uvloop

from adapters.deepgram.agent import DeepgramAgentConnection
from adapters.twilio.call_leg import TwilioCallLeg
from adapters.twilio.media_codec import Start, decode
from application.calls.agent_link import AgentLink, RecoveryLimits
from application.ports import (
    AgentAudio,
    AgentEvent,
    CallerAudio,
    CallerDtmf,
    CallerHungUp,
    TurnPlayed,
)

FRAME = b"\xff" * 160
MEDIA = json.dumps(
    {
        "event": "media",
        "sequenceNumber": "3",
        "streamSid": "MZ1",
        "media": {
            "track": "inbound",
            "chunk": "2",
            "timestamp": "40",
            "payload": base64.b64encode(FRAME).decode(),
        },
    }
)
START = json.dumps(
    {
        "event": "start",
        "sequenceNumber": "1",
        "streamSid": "MZ1",
        "start": {
            "accountSid": "AC1",
            "streamSid": "MZ1",
            "callSid": "CA1",
            "tracks": ["inbound"],
            "customParameters": {},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
    }
)


class TwilioSocket:
    """Hands out `messages` media frames, then the end; drops what is sent."""

    def __init__(self, messages: int) -> None:
        self.left = messages

    async def receive_text(self) -> str | None:
        self.left -= 1
        return MEDIA if self.left >= 0 else None

    async def send_text(self, data: str) -> None:
        pass

    async def close(self, code: int = 1000, reason: str = "") -> None:
        pass


class AgentSocketStandIn:
    """What `DeepgramAgentConnection` uses of `AgentSocket`: `messages` binary frames."""

    is_open = True

    def __init__(self, messages: int) -> None:
        self.left = messages

    async def messages(self) -> AsyncIterator[bytes]:
        for _ in range(self.left):
            yield FRAME

    def take_waiting_binary(self, max_bytes: int) -> list[bytes]:
        return []

    def send_binary(self, data: bytes) -> None:
        pass

    def send_text(self, data: bytes) -> None:
        pass

    async def close(self) -> None:
        self.is_open = False


class DroppingConnection:
    """The agent connection of the caller path: drops the audio."""

    async def send_audio(self, audio: bytes) -> None:
        pass

    async def send_tool_result(self, call_id: str, name: str, content: str) -> None:
        pass

    async def close(self) -> None:
        pass

    def events(self) -> AsyncIterator[AgentEvent]:
        raise NotImplementedError


def a_leg(messages: int) -> TwilioCallLeg:
    start = decode(START)
    assert isinstance(start, Start)
    leg = TwilioCallLeg(TwilioSocket(messages), start)
    leg.idle_timeout_s = 10.0  # as in production: the idle watch is on
    return leg


async def caller_path(messages: int) -> float:
    """Microseconds per caller frame, as `CallSession._caller_pump` moves it."""
    leg = a_leg(messages)
    link = AgentLink(DroppingConnection(), reconnect=None, limits=RecoveryLimits())
    frames_in = 0
    started = time.perf_counter()
    async for event in leg.events():
        match event:
            case CallerAudio(payload):
                frames_in += 1
                await link.send_audio(payload)
            case TurnPlayed() | CallerDtmf():
                pass
            case CallerHungUp():
                break
    elapsed = time.perf_counter() - started
    assert frames_in == messages
    return elapsed * 1e6 / messages


async def agent_path(messages: int) -> float:
    """Microseconds per agent audio message, as `CallSession._agent_pump` moves it."""
    socket = AgentSocketStandIn(messages)
    connection = DeepgramAgentConnection(
        socket,  # type: ignore[arg-type]  # the stand-in has what the connection uses
        request_id="bench",
        keepalive_interval_s=3600,
        audio_buffer_limit_bytes=16_000,
    )
    link = AgentLink(connection, reconnect=None, limits=RecoveryLimits())
    leg = a_leg(0)
    frames_out, unmarked, turns = 0, False, 0
    started = time.perf_counter()
    async for event in link.events():
        match event:
            case AgentAudio(payload):
                frames_out += 1
                if not unmarked:
                    unmarked, turns = True, turns + 1
                await leg.play(payload)
        if frames_out == messages:
            break
    elapsed = time.perf_counter() - started
    await connection.close()
    return elapsed * 1e6 / messages


async def measure(messages: int) -> None:
    await caller_path(messages // 10)  # warm up
    await agent_path(messages // 10)
    caller_us = await caller_path(messages)
    agent_us = await agent_path(messages)
    per_call_second_ms = (caller_us + agent_us) * 50 / 1000
    print(f"caller -> agent   {caller_us:6.2f} us per frame")
    print(f"agent -> caller   {agent_us:6.2f} us per message")
    print(f"per call-second   {per_call_second_ms:6.2f} ms (50 messages each way)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=200_000)
    args = parser.parse_args()
    print(f"command: uv run python -m benchmarks.hot_path --messages {args.messages}")
    uvloop.run(measure(args.messages))


if __name__ == "__main__":
    main()
