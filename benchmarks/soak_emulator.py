"""The Deepgram emulator for the soak (`benchmarks.soak`), in its own process.

    python -m benchmarks.soak_emulator --api-key K --seconds D --ready R --out O.json

Same command line as `benchmarks.emulator_runner` (so `calls.start_emulator` starts
it). Every session (strict handshake and Settings validation unchanged) gets the
greeting, tagged agent audio paced at 20 ms in 2 s turns, and one
`check_available_slots` tool call; then it ends one of three ways, chosen by its
session index so that every ending path runs:

- "hangup" (14 in 20): the agent talks for D s; the caller hangs up (`stop`);
- "end_call" (5 in 20): part-way, a `FunctionCallRequest` for `end_call`, then a
  goodbye turn; the server ends the call once Twilio echoes the goodbye's mark;
- "drop" (1 in 20): part-way, the TCP connection is dropped with no close frame.

On SIGTERM/SIGINT (or `--max-lifetime-s`) the counts are written to `--out` as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
from collections import Counter
from pathlib import Path
from typing import Any

from tests.support.deepgram_emulator import DeepgramEmulator, EmulatedSession, _encode
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from benchmarks.frames import FRAME_S, tagged_frame

TURN_FRAMES = 100
GOODBYE_FRAMES = 10
_STARTED = _encode(
    {"type": "AgentStartedSpeaking", "total_latency": 0.2, "tts_latency": 0.1, "ttt_latency": 0.1}
)
_DONE = _encode({"type": "AgentAudioDone"})
_GOODBYE_TEXT = _encode({"type": "ConversationText", "role": "assistant", "content": "Goodbye!"})


def kind_of(index: int) -> str:
    if index % 20 == 7:
        return "drop"
    if index % 4 == 1:
        return "end_call"
    return "hangup"


class SoakEmulator(DeepgramEmulator):
    def __init__(self, *, api_key: str, seconds: float, tools: bool = True) -> None:
        super().__init__(api_key=api_key)
        self.tools = tools
        self.frames = round(seconds / FRAME_S)
        self.kinds: Counter[str] = Counter()
        self.completed: Counter[str] = Counter()
        self.tool_requests = 0
        self._call_ids = 0

    async def _request(
        self, ws: ServerConnection, pending: dict[str, asyncio.Future[str]], name: str
    ) -> asyncio.Future[str]:
        self._call_ids += 1
        call_id = f"soak_{self._call_ids}"
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        pending[call_id] = future  # the base receiver resolves it
        item = {"id": call_id, "name": name, "arguments": "{}", "client_side": True}
        if name == "check_available_slots":
            item["arguments"] = json.dumps({"service": "checkup"})
        self.tool_requests += 1
        await ws.send(_encode({"type": "FunctionCallRequest", "functions": [item]}), text=True)
        return future

    async def _run(
        self,
        ws: ServerConnection,
        session: EmulatedSession,
        script: object,
        pending_calls: dict[str, asyncio.Future[str]],
        speaking: asyncio.Lock,
        receiver: asyncio.Task[None],
    ) -> None:
        loop = asyncio.get_running_loop()
        kind = kind_of(session.index)
        self.kinds[kind] += 1
        frames = self.frames
        tool_at = int(frames * random.uniform(0.05, 0.25)) if self.tools else -1
        stop_at = frames if kind == "hangup" else int(frames * random.uniform(0.3, 0.5))
        seq = 0
        try:
            await ws.send(_STARTED, text=True)
            in_turn = 0
            next_at = loop.time()
            for seq in range(stop_at):
                if receiver.done():
                    break
                if seq == tool_at:
                    await self._request(ws, pending_calls, "check_available_slots")
                if in_turn == TURN_FRAMES:
                    await ws.send(_DONE, text=True)
                    await ws.send(_STARTED, text=True)
                    in_turn = 0
                delay = next_at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_at += FRAME_S
                await ws.send(tagged_frame(session.index, seq))
                in_turn += 1
            await ws.send(_DONE, text=True)
            if receiver.done():
                pass
            elif kind == "end_call":
                answer = await self._request(ws, pending_calls, "end_call")
                waited: list[asyncio.Future[Any]] = [answer, receiver]
                await asyncio.wait(waited, timeout=30, return_when="FIRST_COMPLETED")
                if answer.done():
                    await ws.send(_STARTED, text=True)
                    await ws.send(_GOODBYE_TEXT, text=True)
                    for k in range(GOODBYE_FRAMES):
                        await asyncio.sleep(FRAME_S)
                        await ws.send(tagged_frame(session.index, seq + 1 + k))
                    await ws.send(_DONE, text=True)
                    self.completed[kind] += 1
            elif kind == "drop":
                ws.transport.abort()
                receiver.cancel()
                self.completed[kind] += 1
            else:
                self.completed[kind] += 1
        except ConnectionClosed:
            pass
        session.script_done = True
        session.changed()


async def main_async(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    emulator = SoakEmulator(api_key=args.api_key, seconds=args.seconds, tools=not args.no_tools)
    async with emulator:
        Path(args.ready).write_text(emulator.url)  # noqa: ASYNC240
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=args.max_lifetime_s)
        result = {
            "sessions": len(emulator.sessions),
            "rejected_handshakes": emulator.rejected_handshakes,
            "errors": [e for s in emulator.sessions for e in s.errors_sent][:50],
            "script_errors": [s.script_error for s in emulator.sessions if s.script_error][:50],
            "kinds": dict(emulator.kinds),
            "completed": dict(emulator.completed),
            "tool_requests": emulator.tool_requests,
            "tool_responses": sum(len(s.function_responses) for s in emulator.sessions),
        }
        tmp = Path(args.out + ".tmp")
        tmp.write_text(json.dumps(result))  # noqa: ASYNC240
        tmp.rename(args.out)  # noqa: ASYNC240


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--ready", required=True, help="file to write the URL to")
    parser.add_argument("--out", required=True, help="JSON file for the counts")
    parser.add_argument("--no-tools", action="store_true", help="no check_available_slots")
    parser.add_argument("--max-lifetime-s", type=float, default=3600)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
