"""How many concurrent calls `serve --workers N` holds on this machine, for 1 and 2.

    uv run python -m benchmarks.workers                          # 1 and 2 workers (~10 min)
    uv run python -m benchmarks.workers --workers 2 --start 100 --hold-s 10

Processes as `benchmarks.burst`: a throwaway Postgres, the cloud-like echo agent and
speak fake (`benchmarks.echo_emulator`), the server (`serve --workers N`: one process
for 1, else a parent that binds the port and N worker processes sharing it) and this
driver. Every caller frame is tagged, echoed
by the agent and timed when it comes back: the relay round trip caller -> server ->
agent -> server -> caller, on the driver's clock.

For each worker count (one server, one emulator), steps of concurrent calls: `--start`
(default 50), then `--step` (50) more each time until a step fails or `--max` (400)
passes; then bisection between the last pass and the first fail, down to
`--resolution` (10) calls. In a step the calls start over `--ramp-s` (2 s) and all
stream until about `--hold-s` (12 s) after the last one started. The held window runs
from 1 s after the last call of the step heard its greeting to the first call's last
frame; a step passes when no call failed, every frame came back, and the round trip
p99 over the frames sent in that window (every call's) is <= `--p99-ms` (50). The
ramp and each call's set-up are outside the window: a call's first ~0.3 s of frames
queue behind its greeting's audio ("all p99" includes them, for reference).

Per step, over the held window: the server's CPU in cores (its workers included), the
echo emulator's, this driver's, Postgres' and every other process' ("other": work on
the machine that is no part of the benchmark), the machine's busy share and the
driver's event-loop lag p99. Driver and emulator share the cores with the server: a
step flagged "saturated" (machine over 95% busy, or the driver's lag p99 over 5 ms,
as in `benchmarks.calls`) measured the machine, harness included, as much as the
server. Between steps the server is left to go idle.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field

import httpx

from benchmarks.calls import (
    SATURATED_BUSY,
    SATURATED_LAG_P99_MS,
    Processes,
    lag_probe,
    machine_ticks,
    pct,
    postgres_cpu_s,
    proc_cpu_s,
    start_server,
    tree_cpu_s,
    tree_pids,
    without_gc,
)
from benchmarks.echo_calls import (
    CLOUD_DELAYS,
    CallRecord,
    echo_call,
    rtt_figures,
    start_echo_emulator,
    workdir_for,
)

SKIP_S = 1.0
"""The held window opens this long after the last call heard its greeting."""
SAMPLE_S = 1.0
"""CPU sampling period (one /proc scan, ~2 ms of the driver's loop)."""
IDLE_CORES = 0.1
"""Between steps, the server counts as idle below this."""


@dataclass
class Sample:
    at_ns: int
    server_s: float
    emulator_s: float
    driver_s: float
    postgres_s: float
    ticks: tuple[int, int]


def sample(server_pid: int, emulator_pid: int) -> Sample:
    return Sample(
        time.monotonic_ns(),
        tree_cpu_s(server_pid),
        proc_cpu_s(emulator_pid),
        time.process_time(),
        postgres_cpu_s(),
        machine_ticks(),
    )


async def sampler(out: list[Sample], stop: asyncio.Event, server: int, emulator: int) -> None:
    while not stop.is_set():
        out.append(sample(server, emulator))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_S)
    out.append(sample(server, emulator))


@dataclass
class Step:
    calls: int
    records: list[CallRecord]
    samples: list[Sample]
    lags_ms: list[float]
    window_ns: tuple[int, int] | None = None
    held: dict[str, float] = field(default_factory=dict)
    whole: dict[str, float] = field(default_factory=dict)
    cores: dict[str, float] = field(default_factory=dict)
    busy: float = float("nan")
    """Share of the machine's CPU time in use (all processes, all cores)."""
    lag_p99_ms: float = float("nan")

    @property
    def errors(self) -> list[str]:
        return [f"call {r.index}: {r.error}" for r in self.records if r.error]

    @property
    def unechoed(self) -> int:
        return sum(r.unechoed for r in self.records)

    @property
    def saturated(self) -> bool:
        """The machine, not only the server, was the limit (as `benchmarks.calls`)."""
        return self.busy > SATURATED_BUSY or self.lag_p99_ms > SATURATED_LAG_P99_MS

    def passed(self, p99_ms: float) -> bool:
        return (
            not self.errors
            and not self.unechoed
            and self.window_ns is not None
            and self.held["p99"] <= p99_ms
        )


async def drive(
    base: str, n: int, ramp_s: float, hold_s: float, server_pid: int, emulator_pid: int
) -> Step:
    """n calls started over ramp_s, each streaming until ~hold_s after the last start."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    samples: list[Sample] = []
    lags: list[float] = []
    probes = [
        asyncio.create_task(lag_probe(lags, stop)),
        asyncio.create_task(sampler(samples, stop, server_pid, emulator_pid)),
    ]
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        t0 = loop.time()
        tasks = []
        for i in range(n):
            offset = ramp_s * i / n
            if (delay := t0 + offset - loop.time()) > 0:
                await asyncio.sleep(delay)
            # the later a call starts, the shorter it streams: all end together
            hold = hold_s + ramp_s - offset
            tasks.append(asyncio.create_task(echo_call(i, client=client, base=base, hold_s=hold)))
        records = list(await asyncio.gather(*tasks))
    stop.set()
    await asyncio.gather(*probes)
    return Step(n, records, samples, lags)


def analyse(step: Step) -> None:
    records = step.records
    every = [rtt for r in records for _, rtt in r.rtts]
    step.whole = rtt_figures(every)
    set_up = [r.setup_done_ns for r in records]
    last_sends = [max(sent for sent, _ in r.rtts) for r in records if r.rtts]
    if None in set_up or len(last_sends) < len(records):
        return  # a call never set up or never echoed: the step failed anyway
    begin = max(s for s in set_up if s is not None) + int(SKIP_S * 1e9)
    end = min(last_sends)
    if end <= begin:
        return
    step.window_ns = (begin, end)
    step.held = rtt_figures([rtt for r in records for sent, rtt in r.rtts if begin <= sent <= end])
    inside = [s for s in step.samples if begin <= s.at_ns <= end]
    if len(inside) >= 2:
        a, b = inside[0], inside[-1]
        span = (b.at_ns - a.at_ns) / 1e9
        step.cores = {
            "server": (b.server_s - a.server_s) / span,
            "emulator": (b.emulator_s - a.emulator_s) / span,
            "driver": (b.driver_s - a.driver_s) / span,
            "postgres": max(0.0, b.postgres_s - a.postgres_s) / span,  # backends come and go
        }
        step.busy = (b.ticks[0] - a.ticks[0]) / max(1, b.ticks[1] - a.ticks[1])
        step.cores["other"] = step.busy * (os.cpu_count() or 1) - sum(step.cores.values())
    step.lag_p99_ms = pct(step.lags_ms, 99)


def wait_idle(server_pid: int, timeout_s: float = 30.0) -> None:
    """Until the server's tree spends under IDLE_CORES over half a second (bounded)."""
    deadline = time.monotonic() + timeout_s
    before = tree_cpu_s(server_pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = tree_cpu_s(server_pid)
        if (now - before) / 0.5 < IDLE_CORES:
            return
        before = now


HEAD = (
    f"{'calls':>5} {'p99':>6} {'max':>6} {'frames':>7} {'window':>6} {'all p99':>7} "
    f"{'failed':>6} {'lost':>5}  {'server':>6} {'emul':>5} {'driver':>6} {'pg':>5} "
    f"{'other':>5} {'busy':>5} {'lag p99':>7}"
)
UNITS = (
    f"{'':>5} {'ms':>6} {'ms':>6} {'':>7} {'s':>6} {'ms':>7} "
    f"{'':>6} {'':>5}  {'cores':>6} {'cores':>5} {'cores':>6} {'cores':>5} "
    f"{'cores':>5} {'':>5} {'ms':>7}"
)


def step_line(step: Step, p99_ms: float) -> str:
    held, cores = step.held, step.cores
    window = (step.window_ns[1] - step.window_ns[0]) / 1e9 if step.window_ns else float("nan")

    def c(key: str) -> float:
        return cores.get(key, float("nan"))

    return (
        f"{step.calls:>5} {held.get('p99', float('nan')):>6.1f} "
        f"{held.get('max', float('nan')):>6.1f} {held.get('n', 0):>7} {window:>6.1f} "
        f"{step.whole['p99']:>7.1f} {len(step.errors):>6} {step.unechoed:>5}  "
        f"{c('server'):>6.2f} {c('emulator'):>5.2f} {c('driver'):>6.2f} {c('postgres'):>5.2f} "
        f"{c('other'):>5.2f} {step.busy * 100:>4.0f}% {step.lag_p99_ms:>7.1f}  "
        + ("pass" if step.passed(p99_ms) else "FAIL")
        + ("  saturated" if step.saturated else "")
    )


def search(
    workers: int, args: argparse.Namespace, database_url: str
) -> tuple[int, int | None, list[Step]]:
    """(most calls passed, fewest failed or None, steps) for one worker count."""
    procs = Processes(workdir_for(f"workers-{workers}"))
    steps: list[Step] = []
    try:
        agent_url, speak_url = start_echo_emulator(
            procs, delays=CLOUD_DELAYS, speak_delay_s=args.speak_delay_s
        )
        env = {"DEEPGRAM_SPEAK_URL": f"{speak_url}/v1/speak"}
        env.update(kv.split("=", 1) for kv in args.server_env)
        base, command = start_server(procs, database_url, agent_url, extra_env=env, workers=workers)
        assert procs.server is not None
        assert procs.emulator is not None
        server_pid, emulator_pid = procs.server.pid, procs.emulator.pid
        wait_idle(server_pid)
        print(
            f"\n=== {workers} worker{'s' if workers > 1 else ''}: {shlex.join(command[1:])} "
            f"(server processes: {len(tree_pids(server_pid))}) ==="
        )
        print(HEAD)
        print(UNITS)
        passed, failed = 0, None
        n = args.start
        for _ in range(40):  # bounded: ~max/step steps up, then a bisection
            step = without_gc(drive(base, n, args.ramp_s, args.hold_s, server_pid, emulator_pid))
            analyse(step)
            steps.append(step)
            print(step_line(step, args.p99_ms), flush=True)
            for line in step.errors[:3]:
                print(f"      {line}")
            if step.passed(args.p99_ms):
                passed = n
            else:
                failed = n
            if failed is None:
                if n >= args.max:
                    break
                n = min(args.max, n + args.step)
            elif failed - passed > args.resolution:
                n = (passed + failed) // 2
            else:
                break
            wait_idle(server_pid)
    finally:
        procs.stop()
    shutil.rmtree(procs.workdir, ignore_errors=True)
    return passed, failed, steps


def limited_by(steps: list[Step], failed: int | None) -> str:
    first_fail = next((s for s in steps if s.calls == failed), None)
    if first_fail is None:
        return ""
    return "; machine saturated there" if first_fail.saturated else ""


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.workers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--workers", default="1,2", help="worker counts, a comma list")
    parser.add_argument("--start", type=int, default=50, help="calls in the first step")
    parser.add_argument("--step", type=int, default=50, help="calls added per step")
    parser.add_argument("--max", type=int, default=400, help="most calls tried")
    parser.add_argument("--resolution", type=int, default=10, help="bisect down to this")
    parser.add_argument("--ramp-s", type=float, default=2.0)
    parser.add_argument("--hold-s", type=float, default=12.0)
    parser.add_argument("--p99-ms", type=float, default=50.0)
    parser.add_argument("--speak-delay-s", type=float, default=0.3)
    parser.add_argument(
        "--server-env", action="append", default=[], help="KEY=VALUE for the server (repeatable)"
    )
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",") if w.strip()]
    if not counts or min(counts) < 1 or max(counts) > 16:
        parser.error("--workers: 1..16, comma separated")
    if not 1 <= args.start <= args.max <= 2000 or args.step < 1 or args.resolution < 1:
        parser.error("need 1 <= --start <= --max <= 2000, --step >= 1, --resolution >= 1")
    if args.hold_s < 2 * SKIP_S:
        parser.error(f"--hold-s: at least {2 * SKIP_S:g}")

    from tests.support.postgres import postgres_server

    from adapters.sql import upgrade_to_head

    invoked = shlex.join(["uv", "run", "python", "-m", "benchmarks.workers", *sys.argv[1:]])
    print(f"command: {invoked}")
    print(f"machine: nproc={os.cpu_count()}  python {platform.python_version()}")
    print(
        f"a step passes with no failed call, no lost frame and the relay round trip p99 <= "
        f"{args.p99_ms:g} ms over its held window ({args.hold_s:g} s hold, {args.ramp_s:g} s "
        f"ramp; the ramp, set-up and first {SKIP_S:g} s after the last greeting excluded)"
    )
    results: dict[int, tuple[int, int | None, str]] = {}
    with postgres_server() as database_url:
        upgrade_to_head(database_url)
        for workers in counts:
            passed, failed, steps = search(workers, args, database_url)
            results[workers] = (passed, failed, limited_by(steps, failed))
    print(f"\nmost calls held (relay round trip p99 <= {args.p99_ms:g} ms, none failed):")
    one = results.get(1, (0, None, ""))[0]
    for workers, (passed, failed, note) in results.items():
        bound = f"first fail at {failed}" if failed is not None else f"--max {args.max} reached"
        label = f"{workers} worker{'s' if workers > 1 else ''}"
        print(f"  {label:<10} {passed:>4}  ({bound}{note})")
    for workers, (passed, _, _) in results.items():
        if workers != 1 and one:
            print(f"  ratio {workers} workers / 1 worker: {passed / one:.2f}")
    print(f"command: {invoked}")


if __name__ == "__main__":
    main()
