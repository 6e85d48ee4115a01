"""N concurrent simulated calls through ONE server process: latency, loss, CPU, memory.

    uv run python -m benchmarks.calls --calls 200 --seconds 20
    uv run python -m benchmarks.calls --calls 20 --seconds 5          # quick
    uv run python -m benchmarks.calls --calls 20,50,100,200 --seconds 20

Processes (all on 127.0.0.1): a throwaway Postgres (tests/support/postgres.py),
migrated; the Deepgram emulator with the benchmark script in its own process
(`benchmarks.emulator_runner`); the server (`python -m entrypoints.cli serve`); and
this driver, which runs the N `SimulatedCall`s (signed voice webhook -> TwiML ->
signed media stream) with caller audio paced at 20 ms per 160-byte frame for D s.

Every frame carries (stream index, sequence number) in its first bytes; both ends
stamp `time.monotonic_ns()` (CLOCK_MONOTONIC is system-wide, so stamps from the
processes compare). Figures:

1. added latency per frame, each direction, p50/p95/p99/max:
   caller->agent = emulator receipt - simulator send;
   agent->caller = simulator receipt - emulator send;
2. frames lost / reordered (or duplicated) per direction;
3. server CPU (utime+stime from /proc/<pid>/stat, its workers' included) per
   call-second, in the steady window (all N calls streaming) and over the whole run
   (setup and teardown too);
4. barge-in: simulator receipt of `clear` - emulator send of `UserStartedSpeaking`
   (two socket transits plus the server's turnaround);
5. tool turnaround: emulator send of `FunctionCallRequest` (check_available_slots,
   service "checkup") -> receipt of the `FunctionCallResponse` with that id, on Postgres;
6. the server's peak RSS (VmHWM);
plus the event-loop lag of the driver and the emulator, and the machine's CPU
use, to show whether the harness (not the server) was the bottleneck.

With a single N that saturates the machine, smaller N (halving, down to 20) run too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from tests.support.twilio_simulator import (
    SimulatedCall,
    new_call,
    parse_twiml,
    post_voice_webhook,
)

from benchmarks.frames import FRAME_BYTES, FRAME_S, read_tag, tagged_frame

ROOT = Path(__file__).resolve().parent.parent
AUTH_TOKEN = "bench-twilio-auth-token"
DEEPGRAM_KEY = "bench-deepgram-key"
API_KEY = "bench-api-key"
CLK_TCK = os.sysconf("SC_CLK_TCK")
T = TypeVar("T")
TARGETS = {
    "latency_p99_ms": 10.0,
    "cpu_ms_per_call_s": 1.5,
    "barge_in_ms": 2.0,
    "tool_p99_ms": 20.0,
}
SATURATED_LAG_P99_MS = 5.0
SATURATED_BUSY = 0.95
IDLE_PROBE_S = 3.0

# --- /proc -------------------------------------------------------------------------------


def proc_cpu_s(pid: int) -> float:
    """utime + stime of `pid` in seconds (children not included)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _proc_stats() -> dict[int, list[str]]:
    """The fields after `comm` of every /proc/<pid>/stat (field 4, ppid, is [1])."""
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        stats[int(entry.name)] = stat[stat.rindex(")") + 2 :].split()
    return stats


def _tree(pid: int, stats: dict[int, list[str]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for child, fields in stats.items():
        children.setdefault(int(fields[1]), []).append(child)
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        if current in stats:
            found.append(current)
            pending.extend(children.get(current, []))
    return found


def tree_pids(pid: int) -> list[int]:
    """`pid` and its live descendants."""
    return _tree(pid, _proc_stats())


def tree_cpu_s(pid: int) -> float:
    """utime + stime of `pid` and of every live descendant, plus the reaped ones' (their
    parents' cutime + cstime), in seconds.

    `serve --workers N` is a parent and N worker processes: `proc_cpu_s` of the parent
    alone misses the work. A reaped worker's time moves into its parent's cutime/cstime,
    so the sum does not drop when one exits.
    """
    stats = _proc_stats()
    ticks = sum(int(v) for p in _tree(pid, stats) for v in stats[p][11:15])
    return ticks / CLK_TCK


def proc_status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


def postgres_cpu_s() -> float:
    """utime+stime of every process named `postgres` (the throwaway cluster's)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == "postgres":
                total += proc_cpu_s(int(entry.name))
        except (OSError, ValueError):
            continue
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- the simulated caller ------------------------------------------------------------------


class BenchCall(SimulatedCall):
    """A `SimulatedCall` that stamps every tagged agent frame and every `clear`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session_index: int | None = None
        self.agent_recv: list[tuple[int, int, int]] = []
        self.clear_ns: list[int] = []
        self.sent: list[int] = []
        self.last_agent_seq = -1

    def _on_message(self, text: str) -> None:
        now = time.monotonic_ns()
        n_audio, n_clears = len(self.audio), len(self.clears)
        super()._on_message(text)
        # A media message may carry several 20 ms frames: the server joins agent audio
        # that queued up while its loop was busy (Twilio plays payloads as one stream).
        tagged = False
        for offset in range(n_audio, len(self.audio), FRAME_BYTES):
            tag = read_tag(self.audio, offset)
            if tag is not None:
                tagged = True
                self.agent_recv.append((tag[0], tag[1], now))
                self.last_agent_seq = tag[1]
                if self.session_index is None:
                    self.session_index = tag[0]
        if tagged:
            self._changed()
        if len(self.clears) > n_clears:
            self.clear_ns.append(now)


@dataclass
class CallResult:
    index: int
    sim: BenchCall | None = None
    error: str | None = None
    streaming: tuple[float, float] | None = None  # loop time of first and last caller frame


async def run_call(
    index: int,
    *,
    client: httpx.AsyncClient,
    base: str,
    start_at: float,
    frames: int,
    agent_frames: int,
    registry: dict[int, BenchCall],
) -> CallResult:
    loop = asyncio.get_running_loop()
    result = CallResult(index)
    phase = "webhook"
    await asyncio.sleep(max(0.0, start_at - loop.time()))
    identity = new_call(from_number=f"+1555{2000000 + index:07d}")
    try:
        response = await post_voice_webhook(client, f"{base}/twilio/voice", AUTH_TOKEN, identity)
        response.raise_for_status()
        reply = parse_twiml(response.text)
        if reply.stream_url is None:
            raise RuntimeError(f"no stream in TwiML: {response.text[:200]}")
        sim = BenchCall(
            reply.stream_url,
            auth_token=AUTH_TOKEN,
            custom_parameters=reply.stream_parameters,
            call=identity,
            realtime=True,
        )
        result.sim = registry[index] = sim
        phase = "media stream handshake"
        await sim.connect()
        phase = "waiting for the agent's first audio"
        # caller audio starts once the agent's audio flows (Settings applied end to end)
        await sim.wait_for(lambda: sim.session_index is not None or sim.closed.is_set(), 20.0)
        if sim.session_index is None:
            raise RuntimeError(f"stream closed before agent audio (code {sim.close_code})")
        phase = "streaming"
        next_at = loop.time()
        first = next_at
        for seq in range(frames):
            now = loop.time()
            next_at = max(next_at, now)  # as Twilio: late frames are not bunched up
            if next_at > now:
                await asyncio.sleep(next_at - now)
            next_at += FRAME_S
            if sim.closed.is_set():
                raise RuntimeError(f"server closed the stream at frame {seq}")
            frame = tagged_frame(index, seq)
            sim.sent.append(time.monotonic_ns())
            await sim.send_audio(frame, realtime=False)
        result.streaming = (first, loop.time())
        phase = "hanging up"
        # let the agent's last frame arrive before hanging up (bounded)
        with contextlib.suppress(TimeoutError):
            await sim.wait_for(
                lambda: sim.last_agent_seq >= agent_frames - 1 or sim.closed.is_set(), 10.0
            )
        if not sim.closed.is_set():
            await sim.send_stop()
        with contextlib.suppress(TimeoutError):
            await sim.wait_closed(10.0)
    except Exception as error:
        result.error = f"{phase}: {type(error).__name__}: {error}"
    finally:
        if result.sim is not None:
            await result.sim.close()
    return result


# --- one run ------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def p50_p99_max(figures: dict[str, float]) -> str:
    """The usual three figures of a `summary`, and an open bracket with its count."""
    return (
        f"p50 {figures['p50']:.2f}  p99 {figures['p99']:.2f}  max {figures['max']:.2f}"
        f"  (n={figures['n']}"
    )


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "p99": pct(values, 99),
        "max": max(values) if values else float("nan"),
    }


@dataclass
class Processes:
    workdir: Path
    server: subprocess.Popen[bytes] | None = None
    emulator: subprocess.Popen[bytes] | None = None
    logs: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        for proc in (self.server, self.emulator):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in (self.server, self.emulator):
            if proc is not None:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        for log in self.logs:
            log.close()


def start_emulator(
    procs: Processes,
    seconds: float,
    tools: bool = True,
    module: str = "benchmarks.emulator_runner",
) -> str:
    """Start the emulator process (`module`, with emulator_runner's command line)."""
    ready = procs.workdir / "emulator.url"
    log = open(procs.workdir / "emulator.log", "wb")  # noqa: SIM115
    procs.logs.append(log)
    procs.emulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            module,
            "--api-key",
            DEEPGRAM_KEY,
            "--seconds",
            str(seconds),
            "--ready",
            str(ready),
            "--out",
            str(procs.workdir / "emulator.json"),
            *([] if tools else ["--no-tools"]),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if ready.exists() and ready.read_text():
            return ready.read_text()
        if procs.emulator.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError("emulator did not start: " + (procs.workdir / "emulator.log").read_text())


def start_server(
    procs: Processes,
    database_url: str,
    agent_url: str,
    extra_env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
    *,
    workers: int,
) -> tuple[str, list[str]]:
    """The server with `--workers`, always given: its default on Postgres is one per
    core, and figures of one process and of several do not compare."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers), *extra_args]
    env = server_env(database_url, agent_url, base, extra_env)
    return launch_server(procs, command, env, base), command


def server_env(
    database_url: str, agent_url: str, base: str, extra_env: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment every benchmarked server runs with (its settings)."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "PUBLIC_URL": base,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "DEEPGRAM_API_KEY": DEEPGRAM_KEY,
        "DEEPGRAM_AGENT_URL": agent_url,
        "LOG_LEVEL": "WARNING",
        "FRONTDESK_API_KEYS": API_KEY,
        # What one process can carry is measured here, not its admission limit (default 50).
        "MAX_CONCURRENT_CALLS": "100000",
        **(extra_env or {}),
    }


def launch_server(procs: Processes, command: list[str], env: dict[str, str], base: str) -> str:
    """Start `command` as the server and return `base` once its /healthz answers 200."""
    log = open(procs.workdir / "server.log", "wb")  # noqa: SIM115
    procs.logs.append(log)
    procs.server = subprocess.Popen(
        command, cwd=procs.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if procs.server.poll() is not None:
            break
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return base
        time.sleep(0.1)
    raise RuntimeError("server did not start: " + (procs.workdir / "server.log").read_text())


async def lag_probe(out: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for _ in range(10_000_000):
        if stop.is_set():
            return
        before = loop.time()
        await asyncio.sleep(0.005)
        out.append((loop.time() - before - 0.005) * 1000)


def without_gc(run: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(run)` with the cyclic GC off. A run keeps a stamp per frame (100,000
    at 50 calls x 20 s); a full collection over them stopped this driver's loop for ~100
    ms, which showed as every frame's max latency and the barge-in max although the
    server had no stall. The run is bounded, so what it leaves is collected after."""
    gc.disable()
    try:
        return asyncio.run(run)
    finally:
        gc.enable()
        gc.collect()


async def drive(n: int, seconds: float, base: str, server_pid: int, emu_pid: int) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    frames = round(seconds / FRAME_S)
    ramp_s = min(4.0, 0.02 * n, seconds / 4)
    lags: list[float] = []
    stop = asyncio.Event()
    probe = asyncio.create_task(lag_probe(lags, stop))
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    cpu0 = tree_cpu_s(server_pid)
    t0 = loop.time()
    steady: dict[str, Any] = {}

    async def sample_steady(calls: list[asyncio.Task[CallResult]]) -> None:
        # steady window: from the moment every call that got through set-up streams
        # (the rest failed) to the first one's last caller frame
        start_by = t0 + ramp_s + 40.0
        while loop.time() < start_by:
            await asyncio.sleep(0.05)
            if all(t.done() for t in calls):
                return
            sims = sims_of(calls)
            streaming = [s for s in sims if s.sent]
            settled = all(t.done() or (i in sim_of and sim_of[i].sent) for i, t in enumerate(calls))
            if streaming and settled:
                break
        else:
            return
        begin = (
            loop.time(),
            tree_cpu_s(server_pid),
            proc_cpu_s(emu_pid),
            time.process_time(),
            machine_ticks(),
            len(lags),
            postgres_cpu_s(),
        )
        while not any(s.sent and len(s.sent) >= frames for s in sims_of(calls)):
            await asyncio.sleep(0.01)
            if loop.time() > t0 + ramp_s + seconds + 60:
                return
        end = (
            loop.time(),
            tree_cpu_s(server_pid),
            proc_cpu_s(emu_pid),
            time.process_time(),
            machine_ticks(),
            len(lags),
            postgres_cpu_s(),
        )
        span = end[0] - begin[0]
        # loop.time() is time.monotonic(), the clock of every stamp in the run
        steady.update(begin_ns=int(begin[0] * 1e9), end_ns=int(end[0] * 1e9))
        busy = (end[4][0] - begin[4][0]) / max(1, end[4][1] - begin[4][1])
        steady.update(
            window_s=span,
            calls_streaming=len(streaming),
            server_cpu_s=end[1] - begin[1],
            emulator_cpu_s=end[2] - begin[2],
            driver_cpu_s=end[3] - begin[3],
            machine_busy=busy,
            postgres_cpu_s=max(0.0, end[6] - begin[6]),  # backends may exit meanwhile
            machine_busy_cores=busy * (os.cpu_count() or 1),
            driver_lag_ms=lags[begin[5] : end[5]],
        )

    sim_of: dict[int, BenchCall] = {}

    def sims_of(calls: list[asyncio.Task[CallResult]]) -> list[BenchCall]:
        return list(sim_of.values())

    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        calls = [
            asyncio.create_task(
                run_call(
                    i,
                    client=client,
                    base=base,
                    start_at=t0 + ramp_s * i / max(1, n),
                    frames=frames,
                    agent_frames=frames,
                    registry=sim_of,
                )
            )
            for i in range(n)
        ]
        sampler = asyncio.create_task(sample_steady(calls))
        results = await asyncio.wait_for(asyncio.gather(*calls), timeout=ramp_s + seconds + 120)
        await sampler
    t_end = loop.time()
    cpu1 = tree_cpu_s(server_pid)
    stop.set()
    await probe
    return {
        "results": results,
        "ramp_s": ramp_s,
        "whole_window_s": t_end - t0,
        "whole_server_cpu_s": cpu1 - cpu0,
        "steady": steady,
        "driver_lag_ms_all": lags,
    }


def analyse(
    n: int, seconds: float, driven: dict[str, Any], emu: dict[str, Any], server_hwm_kb: int
) -> dict[str, Any]:
    results: list[CallResult] = driven["results"]
    errors = [f"call {r.index}: {r.error}" for r in results if r.error]
    sent_by_call = {r.index: r.sim.sent for r in results if r.sim is not None}
    records = {rec["index"]: rec for rec in emu["records"]}

    # caller -> agent
    c2a: list[float] = []
    c2a_seen: dict[int, set[int]] = {i: set() for i in sent_by_call}
    c2a_reordered = 0
    c2a_unknown = 0
    for rec in records.values():
        last: dict[int, int] = {}
        for call, seq, ns in rec["caller_recv"]:
            sent = sent_by_call.get(call)
            if sent is None or seq >= len(sent):
                c2a_unknown += 1
                continue
            if seq <= last.get(call, -1):
                c2a_reordered += 1
            last[call] = max(seq, last.get(call, -1))
            c2a_seen[call].add(seq)
            c2a.append((ns - sent[seq]) / 1e6)
    c2a_sent = sum(len(s) for s in sent_by_call.values())
    c2a_lost = sum(len(s) - len(c2a_seen[i]) for i, s in sent_by_call.items())

    # agent -> caller
    a2c: list[float] = []
    a2c_reordered = 0
    a2c_lost = 0
    a2c_sent = 0
    recv_by_session: dict[int, list[tuple[int, int, int]]] = {}
    clears_by_session: dict[int, list[int]] = {}
    for r in results:
        if r.sim is not None and r.sim.session_index is not None:
            recv_by_session.setdefault(r.sim.session_index, []).extend(r.sim.agent_recv)
            clears_by_session[r.sim.session_index] = r.sim.clear_ns
    a2c_orphaned = 0
    for index, rec in records.items():
        sent_at = dict(rec["agent_sent"])
        if index not in recv_by_session:
            # the driver gave this call up before its first agent frame (set-up timeout):
            # its frames are counted apart, as a failed call rather than lost frames
            a2c_orphaned += len(sent_at)
            continue
        a2c_sent += len(sent_at)
        seen: set[int] = set()
        last = -1
        for _session, seq, ns in recv_by_session.get(index, []):
            if seq <= last:
                a2c_reordered += 1
            last = max(last, seq)
            seen.add(seq)
            if seq in sent_at:
                a2c.append((ns - sent_at[seq]) / 1e6)
        a2c_lost += len(set(sent_at) - seen)

    # barge-in and tools
    barge: list[float] = []
    barge_missing = 0
    tools: list[float] = []
    steady_tools: list[float] = []  # requested while every call was streaming
    steady = driven["steady"]
    tools_unanswered = 0
    tool_sample = ""
    for index, rec in records.items():
        clears = clears_by_session.get(index, [])
        for k, uss_ns in enumerate(rec["barge_ins"]):
            later = [c for c in clears if c >= uss_ns]
            if k < len(clears) and clears[k] >= uss_ns:
                barge.append((clears[k] - uss_ns) / 1e6)
            elif later:
                barge.append((later[0] - uss_ns) / 1e6)
            else:
                barge_missing += 1
        for _cid, sent_ns, answered_ns in rec["tools"]:
            if answered_ns is None:
                tools_unanswered += 1
            else:
                tools.append((answered_ns - sent_ns) / 1e6)
                if steady and steady["begin_ns"] <= sent_ns < steady["end_ns"]:
                    steady_tools.append((answered_ns - sent_ns) / 1e6)
        if rec["tool_contents"] and not tool_sample:
            tool_sample = rec["tool_contents"][0]

    steady_cpu_ms = (
        steady["server_cpu_s"] * 1000 / (steady["calls_streaming"] * steady["window_s"])
        if steady and steady["window_s"] > 0
        else float("nan")
    )
    streamed = sum(1 for r in results if r.streaming is not None)
    whole_cpu_ms = driven["whole_server_cpu_s"] * 1000 / (max(1, streamed) * seconds)
    driver_lag = summary(steady.get("driver_lag_ms") or driven["driver_lag_ms_all"])
    emu_lag = summary(emu["loop_lag_ms"])
    busy = steady.get("machine_busy", float("nan"))
    saturated = (
        driver_lag["p99"] > SATURATED_LAG_P99_MS
        or emu_lag["p99"] > SATURATED_LAG_P99_MS
        or busy > SATURATED_BUSY
    )
    return {
        "calls": n,
        "seconds": seconds,
        "errors": errors,
        "emulator_errors": emu["errors"],
        "sessions": emu["sessions"],
        "c2a": summary(c2a),
        "c2a_sent": c2a_sent,
        "c2a_lost": c2a_lost,
        "c2a_reordered": c2a_reordered,
        "c2a_unknown": c2a_unknown,
        "a2c": summary(a2c),
        "a2c_sent": a2c_sent,
        "a2c_lost": a2c_lost,
        "a2c_reordered": a2c_reordered,
        "a2c_orphaned": a2c_orphaned,
        "cpu_ms_per_call_s_steady": steady_cpu_ms,
        "cpu_ms_per_call_s_whole": whole_cpu_ms,
        "steady_window_s": steady.get("window_s", float("nan")),
        "steady_calls": steady.get("calls_streaming", 0),
        "server_cpu_cores_steady": (
            steady["server_cpu_s"] / steady["window_s"] if steady else float("nan")
        ),
        "emulator_cpu_cores_steady": (
            steady["emulator_cpu_s"] / steady["window_s"] if steady else float("nan")
        ),
        "driver_cpu_cores_steady": (
            steady["driver_cpu_s"] / steady["window_s"] if steady else float("nan")
        ),
        "machine_busy_steady": busy,
        "postgres_cpu_cores_steady": (
            steady["postgres_cpu_s"] / steady["window_s"] if steady else float("nan")
        ),
        "other_cpu_cores_steady": (
            steady["machine_busy_cores"]
            - (
                steady["server_cpu_s"]
                + steady["emulator_cpu_s"]
                + steady["driver_cpu_s"]
                + steady["postgres_cpu_s"]
            )
            / steady["window_s"]
            if steady
            else float("nan")
        ),
        "barge_in": summary(barge),
        "barge_in_missing": barge_missing,
        "tool": summary(tools),
        "tool_steady": summary(steady_tools),
        "tool_unanswered": tools_unanswered,
        "tool_sample": tool_sample,
        "server_peak_rss_mb": server_hwm_kb / 1024,
        "driver_lag": driver_lag,
        "emulator_lag": emu_lag,
        "saturated": saturated,
    }


def start_profiler(server_pid: int, out: Path) -> subprocess.Popen[bytes]:
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        raise SystemExit("--profile needs py-spy: uv run --with py-spy python -m benchmarks.calls")
    return subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(server_pid),
            "--format",
            "raw",
            "--rate",
            os.environ.get("PY_SPY_RATE", "100"),
            "--nonblocking",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def top_frames(raw: Path, limit: int = 25) -> list[str]:
    """Self and inclusive sample shares of the hottest functions in a py-spy raw file."""
    own: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        for frame in set(frames):
            incl[frame] = incl.get(frame, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
    lines = [f"{total} samples; self% / inclusive%  function (file:line)"]
    for frame, count in sorted(own.items(), key=lambda kv: -kv[1])[:limit]:
        lines.append(f"{100 * count / total:5.1f} / {100 * incl[frame] / total:5.1f}  {frame}")
    return lines


ServerStarter = Callable[[Processes, str, str], tuple[str, list[str]]]
"""Starts the server for (procs, database URL, agent URL): its base URL and command."""


def serve_one_process(procs: Processes, database_url: str, agent_url: str) -> tuple[str, list[str]]:
    return start_server(procs, database_url, agent_url, workers=1)


def run_once(
    n: int,
    seconds: float,
    database_url: str,
    profile: Path | None = None,
    tools: bool = True,
    start: ServerStarter = serve_one_process,
) -> tuple[dict[str, Any], list[str]]:
    workdir = Path(tempfile.mkdtemp(prefix=f"frontdesk-bench-{n}-"))
    procs = Processes(workdir)
    try:
        agent_url = start_emulator(procs, seconds, tools)
        base, command = start(procs, database_url, agent_url)
        assert procs.server is not None
        assert procs.emulator is not None
        idle0 = tree_cpu_s(procs.server.pid)
        time.sleep(IDLE_PROBE_S)  # the idle server's own CPU, for the marginal figure
        idle_cores = (tree_cpu_s(procs.server.pid) - idle0) / IDLE_PROBE_S
        profiler = None
        if profile is not None:
            profile.mkdir(parents=True, exist_ok=True)
            profiler = start_profiler(procs.server.pid, profile / f"server-{n}.txt")
        driven = without_gc(drive(n, seconds, base, procs.server.pid, procs.emulator.pid))
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=60)
        # the largest process of the server's tree (a server may run its app in a child)
        hwm = max(proc_status_kb(pid, "VmHWM") for pid in tree_pids(procs.server.pid))
        procs.emulator.send_signal(signal.SIGTERM)
        procs.emulator.wait(timeout=60)
        emu = json.loads((workdir / "emulator.json").read_text())
        figures = analyse(n, seconds, driven, emu, hwm)
        figures["server_idle_cores"] = idle_cores
        steady = driven["steady"]
        figures["cpu_ms_per_call_s_marginal"] = (
            (steady["server_cpu_s"] / steady["window_s"] - idle_cores)
            * 1000
            / steady["calls_streaming"]
            if steady and steady["window_s"] >= 1
            else float("nan")
        )
        log_tail = (workdir / "server.log").read_text(errors="replace").splitlines()[-15:]
        figures["server_log_tail"] = log_tail
    finally:
        procs.stop()
    shutil.rmtree(workdir, ignore_errors=True)  # kept when the run failed, for its logs
    return figures, command


# --- output --------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


def print_run(f: dict[str, Any]) -> None:
    n, d = f["calls"], f["seconds"]
    flag = "   [HARNESS/MACHINE SATURATED]" if f["saturated"] else ""
    print(f"\n=== {n} calls x {d:g} s ==={flag}")
    if f["errors"]:
        print(f"  call errors: {len(f['errors'])}; first: {f['errors'][:3]}")
    if f["emulator_errors"]:
        print(f"  emulator protocol errors: {f['emulator_errors'][:5]}")
    t = TARGETS
    rows = []
    for key, label in (("c2a", "caller->agent"), ("a2c", "agent->caller")):
        s = f[key]
        rows.append(
            (
                f"added latency {label} (ms)",
                f"p50 {s['p50']:.2f}  p95 {s['p95']:.2f}  p99 {s['p99']:.2f}  max {s['max']:.2f}"
                f"  (n={s['n']})",
                f"p99 <= {t['latency_p99_ms']:g}",
                verdict(s["p99"] <= t["latency_p99_ms"]),
            )
        )
        lost, reord = f[f"{key}_lost"], f[f"{key}_reordered"]
        rows.append(
            (
                f"frames lost/reordered {label}",
                f"{lost} / {reord} of {f[f'{key}_sent']} sent"
                + (
                    f" (+{f['a2c_orphaned']} sent to calls that failed set-up)"
                    if key == "a2c" and f["a2c_orphaned"]
                    else ""
                ),
                "0 / 0",
                verdict(lost == 0 and reord == 0),
            )
        )
    cpu = f["cpu_ms_per_call_s_steady"]
    rows.append(
        (
            "server CPU per call-second (ms)",
            f"{cpu:.2f} steady ({f['steady_calls']} calls, {f['steady_window_s']:.1f} s"
            + (", window too short" if not f["steady_window_s"] >= 1 else "")
            + "); "
            f"{f['cpu_ms_per_call_s_whole']:.2f} whole run; "
            f"{f['cpu_ms_per_call_s_marginal']:.2f} above the idle server "
            f"({f['server_idle_cores'] * 1000:.0f} ms/s)",
            f"<= {t['cpu_ms_per_call_s']:g}",
            verdict(cpu <= t["cpu_ms_per_call_s"] and f["steady_window_s"] >= 1),
        )
    )
    b = f["barge_in"]
    rows.append(
        (
            "barge-in USS-in -> clear-out (ms)",
            f"{p50_p99_max(b)}, missing {f['barge_in_missing']}; includes both sockets' transit)",
            f"<= {t['barge_in_ms']:g}",
            verdict(b["p99"] <= t["barge_in_ms"] and not f["barge_in_missing"]),
        )
    )
    tool_rows = (
        ("tool turnaround, Postgres (ms)", f["tool"], f", unanswered {f['tool_unanswered']}"),
        (
            "  of which in the steady window",
            f["tool_steady"],
            "; the rest came while calls were being set up or torn down",
        ),
    )
    for label, tl, note in tool_rows:
        rows.append(
            (
                label,
                f"{p50_p99_max(tl)}{note})",
                f"p99 <= {t['tool_p99_ms']:g}",
                verdict(tl["p99"] <= t["tool_p99_ms"] and not f["tool_unanswered"]),
            )
        )
    rows.append(("server peak RSS (VmHWM)", f"{f['server_peak_rss_mb']:.1f} MB", "", ""))
    dl, el = f["driver_lag"], f["emulator_lag"]
    rows.append(
        (
            "driver event-loop lag (ms)",
            f"p50 {dl['p50']:.2f}  p99 {dl['p99']:.2f}  max {dl['max']:.2f}",
            f"p99 <= {SATURATED_LAG_P99_MS:g}",
            "harness ok" if dl["p99"] <= SATURATED_LAG_P99_MS else "HARNESS LAGS",
        )
    )
    rows.append(
        (
            "emulator event-loop lag (ms)",
            f"p50 {el['p50']:.2f}  p99 {el['p99']:.2f}  max {el['max']:.2f}",
            f"p99 <= {SATURATED_LAG_P99_MS:g}",
            "harness ok" if el["p99"] <= SATURATED_LAG_P99_MS else "HARNESS LAGS",
        )
    )
    if f["steady_window_s"] >= 1:
        rows.append(
            (
                "CPU cores used, steady window",
                f"server {f['server_cpu_cores_steady']:.2f}  emulator "
                f"{f['emulator_cpu_cores_steady']:.2f}  driver {f['driver_cpu_cores_steady']:.2f}"
                f"  postgres {f['postgres_cpu_cores_steady']:.2f}"
                f"  other {f['other_cpu_cores_steady']:.2f}"
                f"  (machine busy {f['machine_busy_steady'] * 100:.0f}%)",
                "",
                "",
            )
        )
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    for label, value, target, ok in rows:
        print(f"  {label:<{width}}  {value:<{vwidth}}  {target:<10}  {ok}")
    if f["tool_sample"]:
        print(f"  tool result sample: {f['tool_sample'][:120]}")


def print_summary(all_figures: list[dict[str, Any]]) -> None:
    if len(all_figures) < 2:
        return
    print("\n=== summary (ms unless noted) ===")
    head = (
        f"{'calls':>5} {'c2a p99':>8} {'a2c p99':>8} {'lost':>5} {'reord':>5} "
        f"{'cpu/call-s':>10} {'barge p99':>9} {'tool p99':>8} {'RSS MB':>7} "
        f"{'drv lag p99':>11} {'busy':>5} {'other':>5}  saturated"
    )
    print(head)
    for f in all_figures:
        if not f["steady_window_s"] >= 1:  # no steady window: whole-run CPU, no busy figure
            f = {
                **f,
                "cpu_ms_per_call_s_steady": f["cpu_ms_per_call_s_whole"],
                "machine_busy_steady": float("nan"),
                "other_cpu_cores_steady": float("nan"),
            }
        print(
            f"{f['calls']:>5} {f['c2a']['p99']:>8.2f} {f['a2c']['p99']:>8.2f} "
            f"{f['c2a_lost'] + f['a2c_lost']:>5} {f['c2a_reordered'] + f['a2c_reordered']:>5} "
            f"{f['cpu_ms_per_call_s_steady']:>10.2f} {f['barge_in']['p99']:>9.2f} "
            f"{f['tool']['p99']:>8.2f} {f['server_peak_rss_mb']:>7.1f} "
            f"{f['driver_lag']['p99']:>11.2f} {f['machine_busy_steady'] * 100:>4.0f}% "
            f"{f['other_cpu_cores_steady']:>5.2f}  "
            f"{'yes' if f['saturated'] else 'no'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.calls",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--calls", default="50", help="concurrent calls; a comma list runs each (default 50)"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each call")
    parser.add_argument("--json", help="also write all figures to this JSON file")
    parser.add_argument(
        "--profile",
        type=Path,
        help="record the server with py-spy into this directory (needs py-spy on PATH: "
        "uv run --with py-spy ...)",
    )
    parser.add_argument(
        "--no-tools",
        action="store_true",
        help="the emulator sends no FunctionCallRequest (to isolate the audio path)",
    )
    parser.add_argument(
        "--no-step-down",
        action="store_true",
        help="with one N that saturates the machine, do not also run smaller N",
    )
    args = parser.parse_args()
    counts = [int(c) for c in args.calls.split(",") if c.strip()]
    if not counts or min(counts) < 1 or max(counts) > 1000 or not 1 <= args.seconds <= 600:
        parser.error("--calls 1..1000, --seconds 1..600")

    from tests.support.postgres import postgres_server, with_database

    from adapters.sql import upgrade_to_head

    invoked = "uv run python -m benchmarks.calls " + shlex.join(sys.argv[1:])
    print(f"command: {invoked}")
    print(
        f"machine: nproc={os.cpu_count()}  python {platform.python_version()}  "
        f"{platform.platform()}"
    )
    all_figures: list[dict[str, Any]] = []
    server_command: list[str] = []
    with postgres_server() as admin_url:
        database_url = admin_url
        if "TEST_DATABASE_URL" in os.environ:
            database_url = with_database(admin_url, admin_url.rsplit("/", 1)[-1])
        upgrade_to_head(database_url)
        pending = list(counts)
        for _ in range(10):  # bounded: at most ten runs
            if not pending:
                break
            n = pending.pop(0)
            figures, server_command = run_once(
                n, args.seconds, database_url, args.profile, tools=not args.no_tools
            )
            all_figures.append(figures)
            print_run(figures)
            raw = args.profile / f"server-{n}.txt" if args.profile else None
            if raw is not None and raw.exists():
                (args.profile / f"server-{n}-top.txt").write_text("\n".join(top_frames(raw)))
                print(f"  py-spy profile of the server: {raw}; hottest:")
                for line in top_frames(raw, 12):
                    print("    " + line)
            sys.stdout.flush()
            if figures["saturated"] and len(counts) == 1 and not args.no_step_down and n // 2 >= 20:
                print(f"  -> the machine saturated at {n} calls: also running {n // 2}")
                pending.append(n // 2)
    print_summary(all_figures)
    print(f"\nserver: {shlex.join(server_command[1:])} (one process; python = {sys.executable})")
    print(f"command: {invoked}")
    if args.json:
        for f in all_figures:
            f.pop("server_log_tail", None)
        Path(args.json).write_text(json.dumps({"command": invoked, "runs": all_figures}, indent=1))


if __name__ == "__main__":
    main()
