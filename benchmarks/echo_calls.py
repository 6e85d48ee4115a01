"""What `benchmarks.greeting` and `benchmarks.burst` share: the processes (a throwaway
Postgres, the server, `benchmarks.echo_emulator`) and one simulated Twilio call that
times its greeting and the round trip of its own audio.

A call: signed voice webhook -> TwiML -> (the carrier's gap) -> signed media stream ->
the first agent audio (the greeting) -> tagged caller frames at 20 ms for `hold_s`,
each echoed back by the emulator and timed on arrival -> `stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tests.support.twilio_simulator import (
    SimulatedCall,
    new_call,
    parse_twiml,
    post_voice_webhook,
)

from benchmarks.calls import (
    AUTH_TOKEN,
    DEEPGRAM_KEY,
    ROOT,
    Processes,
    pct,
)
from benchmarks.frames import FRAME_BYTES, FRAME_S, MAGIC, read_tag, tagged_frame

CLOUD_DELAYS = {"welcome": 0.300, "settings": 0.100, "greeting": 0.200}
"""The cloud-like agent: handshake, then SettingsApplied, then the first greeting audio."""


def start_echo_emulator(
    procs: Processes, *, delays: dict[str, float], speak_delay_s: float | None = None
) -> tuple[str, str | None]:
    """(agent URL, speak base URL or None) of a `benchmarks.echo_emulator` process."""
    import subprocess

    ready = procs.workdir / "emulator.url"
    speak_ready = procs.workdir / "speak.url"
    log = open(procs.workdir / "emulator.log", "wb")  # noqa: SIM115
    procs.logs.append(log)
    command = [
        sys.executable,
        "-m",
        "benchmarks.echo_emulator",
        "--api-key",
        DEEPGRAM_KEY,
        "--ready",
        str(ready),
        "--welcome-delay-s",
        str(delays["welcome"]),
        "--settings-delay-s",
        str(delays["settings"]),
        "--greeting-delay-s",
        str(delays["greeting"]),
    ]
    if speak_delay_s is not None:
        command += ["--speak-ready", str(speak_ready), "--speak-delay-s", str(speak_delay_s)]
    procs.emulator = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if ready.exists() and ready.read_text():
            speak = speak_ready.read_text() if speak_delay_s is not None else None
            return ready.read_text(), speak
        if procs.emulator.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError("emulator did not start: " + (procs.workdir / "emulator.log").read_text())


class EchoCall(SimulatedCall):
    """Stamps the first agent audio and every echoed tagged frame of its own."""

    def __init__(self, index: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.index = index
        self.first_audio_at: float | None = None
        self.sent_ns: dict[int, int] = {}
        self.rtts: list[tuple[int, int]] = []
        """(send ns, round trip ns) per echoed frame."""

    def _on_message(self, text: str) -> None:
        now = time.monotonic_ns()
        before = len(self.audio)
        super()._on_message(text)
        if len(self.audio) == before:
            return
        if self.first_audio_at is None:
            self.first_audio_at = now / 1e9
            self._changed()
        # tagged frames may follow audio of any length (a greeting): find their marks
        audio, offset = self.audio, self.audio.find(MAGIC, before)
        while 0 <= offset <= len(audio) - FRAME_BYTES:
            tag = read_tag(audio, offset)
            if tag is not None and tag[0] == self.index:
                sent = self.sent_ns.pop(tag[1], None)
                if sent is not None:
                    self.rtts.append((sent, now - sent))
            offset = audio.find(MAGIC, offset + 1)


@dataclass
class CallRecord:
    index: int
    webhook_s: float | None = None
    greeting_s: float | None = None
    """From just before the voice webhook to the first agent audio at the caller."""
    setup_done_ns: int | None = None
    rtts: list[tuple[int, int]] = field(default_factory=list)
    unechoed: int = 0
    """Frames sent and never echoed back (within 2 s of the last one)."""
    error: str | None = None


async def echo_call(
    index: int,
    *,
    client: httpx.AsyncClient,
    base: str,
    hold_s: float,
    gap_s: float = 0.150,
) -> CallRecord:
    """One call; errors end up in the record, never raised."""
    rec = CallRecord(index)
    sim: EchoCall | None = None
    phase = "webhook"
    try:
        t0 = time.monotonic()
        identity = new_call(from_number=f"+1555{3000000 + index:07d}")
        response = await post_voice_webhook(client, f"{base}/twilio/voice", AUTH_TOKEN, identity)
        response.raise_for_status()
        rec.webhook_s = time.monotonic() - t0
        reply = parse_twiml(response.text)
        if reply.stream_url is None:
            raise RuntimeError(f"no stream in TwiML: {response.text[:200]}")
        await asyncio.sleep(gap_s)  # the carrier between answering and opening the stream
        sim = EchoCall(
            index,
            reply.stream_url,
            auth_token=AUTH_TOKEN,
            custom_parameters=reply.stream_parameters,
            call=identity,
        )
        phase = "media stream handshake"
        await sim.connect()
        phase = "waiting for the greeting"
        await sim.wait_for(lambda: sim.first_audio_at is not None or sim.closed.is_set(), 30.0)
        if sim.first_audio_at is None:
            raise RuntimeError(f"stream closed before any agent audio (code {sim.close_code})")
        rec.greeting_s = sim.first_audio_at - t0
        rec.setup_done_ns = time.monotonic_ns()
        phase = "streaming"
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        for seq in range(round(hold_s / FRAME_S)):
            now = loop.time()
            next_at = max(next_at, now)
            if next_at > now:
                await asyncio.sleep(next_at - now)
            next_at += FRAME_S
            if sim.closed.is_set():
                raise RuntimeError(f"server closed the stream at frame {seq}")
            sim.sent_ns[seq] = time.monotonic_ns()
            await sim.send_audio(tagged_frame(index, seq), realtime=False)
        phase = "hanging up"
        with contextlib.suppress(TimeoutError):
            await sim.wait_for(lambda: not sim.sent_ns or sim.closed.is_set(), 2.0)
        if not sim.closed.is_set():
            await sim.send_stop()
        with contextlib.suppress(TimeoutError):
            await sim.wait_closed(10.0)
    except Exception as error:
        rec.error = f"{phase}: {type(error).__name__}: {error}"
    finally:
        if sim is not None:
            rec.rtts = sim.rtts
            rec.unechoed = len(sim.sent_ns)
            await sim.close()
    return rec


def figures_ms(values_s: list[float]) -> str:
    if not values_s:
        return "no samples"
    ms = [v * 1000 for v in values_s]
    return (
        f"p50 {pct(ms, 50):.0f} ms  p95 {pct(ms, 95):.0f} ms  max {max(ms):.0f} ms  (n={len(ms)})"
    )


def rtt_figures(rtts_ns: list[int]) -> dict[str, float]:
    ms = [r / 1e6 for r in rtts_ns]
    return {
        "n": len(ms),
        "p50": pct(ms, 50),
        "p99": pct(ms, 99),
        "p99.9": pct(ms, 99.9),
        "max": max(ms) if ms else float("nan"),
    }


def rtt_line(f: dict[str, float]) -> str:
    return (
        f"p50 {f['p50']:.1f}  p99 {f['p99']:.1f}  p99.9 {f['p99.9']:.1f}  max {f['max']:.1f} ms"
        f"  (n={f['n']})"
    )


def workdir_for(name: str) -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix=f"frontdesk-{name}-"))
