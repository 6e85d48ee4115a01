"""The Deepgram emulator in its own process, running the benchmark script per session.

    python -m benchmarks.emulator_runner --api-key K --seconds D --ready R --out O.json

Serves `tests.support.deepgram_emulator.DeepgramEmulator` (strict handshake and
Settings validation unchanged) with a benchmark script instead of a step list. Per
session, once Settings are applied (and the greeting spoken):

- agent audio: `seconds * 50` tagged 160-byte frames at 20 ms pacing (real time),
  in 2 s turns (AgentStartedSpeaking ... AgentAudioDone, so the server sends marks);
- tools: in the first half of every 5 s block (random point per session), a
  `FunctionCallRequest` for `check_available_slots`; the time until the
  `FunctionCallResponse` with that id arrives is recorded;
- barge-in: in the second half of every 5 s block (random point), mid-turn,
  `UserStartedSpeaking` (send time recorded), then 200 ms without audio and a new
  turn, as the service does when the caller talks;
- caller audio: the receive time of every tagged frame.

The URL goes to `--ready` once listening; on SIGTERM/SIGINT (or `--max-lifetime-s`)
the measurements are written to `--out` as JSON and the process exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from tests.support.deepgram_emulator import (
    DeepgramEmulator,
    EmulatedSession,
    FunctionCallResponseIn,
    SettingsIn,
    _client_decoder,
)
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from benchmarks.frames import FRAME_S, MAGIC, read_tag, tagged_frame

TURN_FRAMES = 100  # 2 s of agent speech per turn
BARGE_PAUSE_S = 0.200
EVENT_EVERY_S = 5.0
TOOL_ARGUMENTS = json.dumps({"service": "checkup"})

_encode = msgspec.json.Encoder().encode
_USS = _encode({"type": "UserStartedSpeaking"})
_STARTED = _encode(
    {"type": "AgentStartedSpeaking", "total_latency": 0.2, "tts_latency": 0.1, "ttt_latency": 0.1}
)
_DONE = _encode({"type": "AgentAudioDone"})


@dataclass
class SessionRecord:
    index: int
    agent_sent: list[tuple[int, int]] = field(default_factory=list)
    """(seq, monotonic ns just before send) per agent frame."""
    caller_recv: list[tuple[int, int, int]] = field(default_factory=list)
    """(call index, seq, monotonic ns on receipt) per tagged caller frame."""
    untagged_caller_frames: int = 0
    barge_ins: list[int] = field(default_factory=list)
    tool_sent: dict[str, int] = field(default_factory=dict)
    tool_answered: dict[str, int] = field(default_factory=dict)
    tool_contents: list[str] = field(default_factory=list)
    planned_frames: int = 0
    stream_done: bool = False


class BenchEmulator(DeepgramEmulator):
    def __init__(self, *, api_key: str, seconds: float, tools: bool = True) -> None:
        super().__init__(api_key=api_key)
        self.tools = tools
        self.frames_per_session = round(seconds / FRAME_S)
        every = round(EVENT_EVERY_S / FRAME_S)
        self._n_events = max(1, self.frames_per_session // every)
        self._span = self.frames_per_session / self._n_events
        self.records: dict[int, SessionRecord] = {}
        self._call_ids = itertools.count(1)

    def record(self, index: int) -> SessionRecord:
        rec = self.records.get(index)
        if rec is None:
            rec = self.records[index] = SessionRecord(index, planned_frames=self.frames_per_session)
        return rec

    async def _run(  # type: ignore[override]
        self,
        ws: ServerConnection,
        session: EmulatedSession,
        script: object,
        pending_calls: dict[str, asyncio.Future[str]],
        speaking: asyncio.Lock,
        receiver: asyncio.Task[None],
    ) -> None:
        rec = self.record(session.index)
        loop = asyncio.get_running_loop()
        sent = rec.agent_sent
        # one tool request in the first half of each 5 s block and one barge-in in the
        # second half, at random points, so sessions do not act in lockstep
        span = self._span
        tool_at = {int(span * (i + random.uniform(0.05, 0.45))) for i in range(self._n_events)}
        if not self.tools:
            tool_at = set()
        barge_at = {int(span * (i + random.uniform(0.55, 0.95))) for i in range(self._n_events)}
        try:
            await ws.send(_STARTED, text=True)
            in_turn = 0
            next_at = loop.time() + random.uniform(0, FRAME_S)  # unsynchronised calls
            for seq in range(self.frames_per_session):
                if receiver.done():
                    break
                if seq in tool_at:
                    call_id = f"bench_{session.index}_{next(self._call_ids)}"
                    item = {
                        "id": call_id,
                        "name": "check_available_slots",
                        "arguments": TOOL_ARGUMENTS,
                        "client_side": True,
                    }
                    frame = _encode({"type": "FunctionCallRequest", "functions": [item]})
                    rec.tool_sent[call_id] = time.monotonic_ns()
                    await ws.send(frame, text=True)
                if seq in barge_at:
                    delay = next_at - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    rec.barge_ins.append(time.monotonic_ns())
                    await ws.send(_USS, text=True)
                    next_at += BARGE_PAUSE_S
                    in_turn = 0
                    delay = next_at - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    await ws.send(_STARTED, text=True)
                elif in_turn == TURN_FRAMES:
                    await ws.send(_DONE, text=True)
                    await ws.send(_STARTED, text=True)
                    in_turn = 0
                delay = next_at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_at += FRAME_S
                frame = tagged_frame(session.index, seq)
                sent.append((seq, time.monotonic_ns()))
                await ws.send(frame)
                in_turn += 1
            await ws.send(_DONE, text=True)
            rec.stream_done = True
        except ConnectionClosed:
            pass
        session.script_done = True
        session.changed()

    async def _receive(  # type: ignore[override]
        self,
        ws: ServerConnection,
        session: EmulatedSession,
        pending_calls: dict[str, asyncio.Future[str]],
        speaking: asyncio.Lock,
    ) -> None:
        rec = self.record(session.index)
        recv = rec.caller_recv
        with contextlib.suppress(ConnectionClosed):
            async for frame in ws:
                now = time.monotonic_ns()
                if isinstance(frame, bytes):
                    session.audio_bytes += len(frame)
                    if frame[:2] == MAGIC and (tag := read_tag(frame)) is not None:
                        recv.append((tag[0], tag[1], now))
                    else:
                        rec.untagged_caller_frames += 1
                    continue
                try:
                    message = _client_decoder.decode(frame)
                except msgspec.ValidationError as error:
                    session.errors_sent.append(f"INVALID_MESSAGE: {error}")
                    continue
                if isinstance(message, FunctionCallResponseIn):
                    if message.id in rec.tool_sent:
                        rec.tool_answered[message.id] = now
                        rec.tool_contents.append(message.content[:300])
                    else:
                        session.errors_sent.append("UNKNOWN_FUNCTION_CALL_ID")
                elif isinstance(message, SettingsIn):
                    session.errors_sent.append("SETTINGS_TWICE")


def _lag_probe(loop: asyncio.AbstractEventLoop, out: list[float], stop: asyncio.Event) -> Any:
    async def probe() -> None:
        for _ in range(10_000_000):
            if stop.is_set():
                return
            before = loop.time()
            await asyncio.sleep(0.005)
            out.append((loop.time() - before - 0.005) * 1000)

    return asyncio.create_task(probe())


async def main_async(args: argparse.Namespace) -> None:
    # A stamp is kept per frame; the cyclic GC's full collections over them would stall
    # this loop and show as the server's latency. The process lives for one run.
    gc.disable()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    lags: list[float] = []
    emulator = BenchEmulator(api_key=args.api_key, seconds=args.seconds, tools=not args.no_tools)
    async with emulator:
        Path(args.ready).write_text(emulator.url)  # noqa: ASYNC240
        probe = _lag_probe(loop, lags, stop)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=args.max_lifetime_s)
        stop.set()
        await probe
        cpu = time.process_time()
        result = {
            "frames_per_session": emulator.frames_per_session,
            "sessions": len(emulator.sessions),
            "rejected_handshakes": emulator.rejected_handshakes,
            "errors": [e for s in emulator.sessions for e in s.errors_sent],
            "cpu_s": cpu,
            "loop_lag_ms": lags,
            "records": [
                {
                    "index": r.index,
                    "agent_sent": r.agent_sent,
                    "caller_recv": r.caller_recv,
                    "untagged_caller_frames": r.untagged_caller_frames,
                    "barge_ins": r.barge_ins,
                    "tools": [
                        [cid, sent, r.tool_answered.get(cid)] for cid, sent in r.tool_sent.items()
                    ],
                    "tool_contents": r.tool_contents[:2],
                    "stream_done": r.stream_done,
                }
                for r in emulator.records.values()
            ],
        }
        tmp = Path(args.out + ".tmp")
        tmp.write_text(json.dumps(result))  # noqa: ASYNC240
        tmp.rename(args.out)  # noqa: ASYNC240


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--ready", required=True, help="file to write the URL to")
    parser.add_argument("--out", required=True, help="JSON file for the measurements")
    parser.add_argument("--no-tools", action="store_true", help="send no FunctionCallRequest")
    parser.add_argument("--max-lifetime-s", type=float, default=900)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
