"""Soak: many short simulated calls, a fixed number at a time, through ONE server.

    uv run python -m benchmarks.soak --calls 2000 --concurrency 50 --seconds 3
    uv run python -m benchmarks.soak --calls 200 --concurrency 20 --seconds 3   # quick

The same processes as `benchmarks.calls` (throwaway Postgres, the server, the
Deepgram emulator in its own process: here `benchmarks.soak_emulator`, which ends
calls by caller hang-up, by an `end_call` tool call and goodbye, or by dropping the
Deepgram connection, so every ending path runs; every call also runs one
`check_available_slots` on Postgres). Calls run through `calls.run_call`: signed
webhook -> TwiML -> signed media stream, D s of caller audio at 20 ms pacing, `stop`.

The server's state is read from its `/metrics` (resident memory, asyncio tasks, open
fds, active calls, calls by ending) and from /proc (its TCP sockets, from
/proc/<pid>/fd and /proc/net/tcp{,6}, by peer: the emulator, Postgres, or clients on
its own port):

1. baseline: the idle server after start-up;
2. after warm-up (`--warmup` calls at the same concurrency): the reference, since
   first calls import modules, fill caches and open the database pool;
3. after the run: once active calls is 0, sampled every 2 s until two samples in a
   row agree (at most 60 s).

Verdict: tasks and emulator/client sockets back to the post-warm-up figure exactly;
RSS within `--rss-tolerance` (default 10%) of it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from benchmarks.calls import Processes, run_call, start_emulator, start_server
from benchmarks.frames import FRAME_S

SERVER_CLOSED = "server closed the stream"
BUSY = "all our lines are busy"
TCP_STATES = {
    "01": "ESTABLISHED",
    "02": "SYN_SENT",
    "03": "SYN_RECV",
    "04": "FIN_WAIT1",
    "05": "FIN_WAIT2",
    "06": "TIME_WAIT",
    "07": "CLOSE",
    "08": "CLOSE_WAIT",
    "09": "LAST_ACK",
    "0A": "LISTEN",
    "0B": "CLOSING",
}

# --- what the server holds ----------------------------------------------------------------


def tcp_sockets(pid: int, server_port: int, emulator_port: int, pg_port: int) -> Counter[str]:
    """The server's TCP sockets as "peer STATE" -> count; peer is emulator, postgres,
    client (on the server's port) or other; plus "unix/other" for non-TCP sockets."""
    inodes: set[str] = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found: Counter[str] = Counter()
    seen: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                inode = cols[9]
                if inode not in inodes or inode in seen:
                    continue
                seen.add(inode)
                local = int(cols[1].rsplit(":", 1)[1], 16)
                remote = int(cols[2].rsplit(":", 1)[1], 16)
                state = TCP_STATES.get(cols[3], cols[3])
                if state == "LISTEN":
                    peer = "listen"
                elif remote == emulator_port:
                    peer = "emulator"
                elif remote == pg_port:
                    peer = "postgres"
                elif local == server_port:
                    peer = "client"
                else:
                    peer = "other"
                found[f"{peer} {state}"] += 1
    found["unix/other"] = len(inodes - seen)
    return found


def leak_sockets(sockets: Counter[str]) -> int:
    """Sockets to the emulator or from clients, any state (each should end with its call)."""
    return sum(n for key, n in sockets.items() if key.split()[0] in ("emulator", "client"))


def parse_metrics(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        with contextlib.suppress(ValueError):
            out[name] = float(value)
    return out


@dataclass
class Sample:
    at: float
    rss_mb: float
    tasks: int
    fds: int
    active: int
    sockets: Counter[str]
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def leaky_sockets(self) -> int:
        return leak_sockets(self.sockets)

    @property
    def pg_sockets(self) -> int:
        return sum(n for k, n in self.sockets.items() if k.startswith("postgres "))

    def line(self) -> str:
        socks = ", ".join(f"{k} {n}" for k, n in sorted(self.sockets.items()) if n)
        return (
            f"RSS {self.rss_mb:.1f} MB, tasks {self.tasks}, fds {self.fds}, "
            f"active calls {self.active}; sockets: {socks}"
        )


@dataclass
class Target:
    base: str
    pid: int
    server_port: int
    emulator_port: int
    pg_port: int

    async def sample(self) -> Sample:
        async with httpx.AsyncClient(timeout=30) as client:  # closed before /proc is read
            text = (await client.get(f"{self.base}/metrics", headers={"Connection": "close"})).text
        await asyncio.sleep(0.2)  # let the server close the scrape's connection
        m = parse_metrics(text)
        outcomes = {
            k.split('"')[1]: int(v) for k, v in m.items() if k.startswith("frontdesk_calls_total{")
        }
        outcomes["(agent reconnects)"] = int(m.get("frontdesk_agent_reconnects_total", 0))
        outcomes["(turned away)"] = int(
            sum(v for k, v in m.items() if k.startswith("frontdesk_calls_turned_away_total{"))
        )
        return Sample(
            at=time.monotonic(),
            rss_mb=m["process_resident_memory_bytes"] / 2**20,
            tasks=int(m["frontdesk_asyncio_tasks"]),
            fds=int(m["process_open_fds"]),
            active=int(m["frontdesk_active_calls"]),
            sockets=tcp_sockets(self.pid, self.server_port, self.emulator_port, self.pg_port),
            outcomes=outcomes,
        )

    async def settled(self, max_wait_s: float = 60.0) -> tuple[Sample, list[Sample]]:
        """Once active calls is 0, sample every 2 s until two samples in a row agree."""
        deadline = time.monotonic() + max_wait_s
        samples = [await self.sample()]
        while samples[-1].active and time.monotonic() < deadline:
            await asyncio.sleep(1)
            samples = [await self.sample()]
        for _ in range(30):  # bounded by the deadline too
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(2)
            samples.append(await self.sample())
            a, b = samples[-2], samples[-1]
            if (
                a.tasks == b.tasks
                and a.fds == b.fds
                and a.leaky_sockets == b.leaky_sockets
                and abs(a.rss_mb - b.rss_mb) < 0.5
                and not b.active
            ):
                break
        return samples[-1], samples


# --- the calls ----------------------------------------------------------------------------


async def run_calls(
    target: Target,
    first: int,
    n: int,
    concurrency: int,
    frames: int,
    progress_s: float = 0.0,
) -> tuple[Counter[str], list[str], float]:
    """`n` calls, `concurrency` at a time; (ending counts, first errors, elapsed s)."""
    loop = asyncio.get_running_loop()
    indices = iter(range(first, first + n))
    endings: Counter[str] = Counter()
    errors: list[str] = []
    t0 = loop.time()

    async def worker(client: httpx.AsyncClient) -> None:
        for index in indices:  # shared iterator: each index taken once
            result = await run_call(
                index,
                client=client,
                base=target.base,
                start_at=0.0,
                frames=frames,
                agent_frames=frames,
                registry={},
            )
            if result.error is not None and BUSY in result.error:
                # turned away at the webhook (capacity): not a call; back off, go on
                endings["turned away (busy)"] += 1
                await asyncio.sleep(0.2)
                continue
            if result.error is None:
                endings["all caller audio sent, then stop or server close"] += 1
            elif result.error.startswith("streaming: ") and (
                SERVER_CLOSED in result.error or "ConnectionClosedOK" in result.error
            ):  # the server closed the stream mid-audio (end_call, Deepgram drop)
                endings["server closed mid-audio"] += 1
            else:
                endings["FAILED"] += 1
                if len(errors) < 10:
                    errors.append(f"call {index}: {result.error}")

    async def progress() -> None:
        for _ in range(100_000):
            await asyncio.sleep(progress_s)
            s = await target.sample()
            done = sum(endings.values())
            print(f"  [{loop.time() - t0:6.0f} s] {done}/{n} calls done; {s.line()}", flush=True)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    reporter = asyncio.create_task(progress()) if progress_s else None
    try:
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            workers = [asyncio.create_task(worker(client)) for _ in range(concurrency)]
            # bounded: a generous multiple of the calls' own length
            budget = 120 + 4 * n * (frames * FRAME_S + 2) / concurrency
            await asyncio.wait_for(asyncio.gather(*workers), timeout=budget)
    finally:
        if reporter is not None:
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
    return endings, errors, loop.time() - t0


async def soak(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    frames = round(args.seconds / FRAME_S)
    before = await target.sample()
    print(f"before (idle server):   {before.line()}", flush=True)
    warm, warm_errors, warm_s = await run_calls(target, 0, args.warmup, args.concurrency, frames)
    warmed, _ = await target.settled()
    print(f"after warm-up ({args.warmup} calls, {warm_s:.0f} s, {dict(warm)}):", flush=True)
    print(f"                        {warmed.line()}", flush=True)
    endings, errors, elapsed = await run_calls(
        target, args.warmup, args.calls, args.concurrency, frames, progress_s=args.progress_s
    )
    after, tail = await target.settled()
    print(f"after the run:          {after.line()}", flush=True)
    return {
        "before": before,
        "warmed": warmed,
        "after": after,
        "tail": tail,
        "warm_endings": warm,
        "warm_errors": warm_errors,
        "endings": endings,
        "errors": errors,
        "elapsed_s": elapsed,
    }


# --- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--calls", type=int, default=2000, help="calls after the warm-up")
    parser.add_argument("--concurrency", type=int, default=50, help="calls at a time")
    parser.add_argument("--seconds", type=float, default=3.0, help="caller audio per call")
    parser.add_argument("--warmup", type=int, default=50, help="calls before the reference")
    parser.add_argument("--rss-tolerance", type=float, default=0.10, help="fraction (0.10)")
    parser.add_argument("--progress-s", type=float, default=30.0, help="progress line every")
    parser.add_argument(
        "--max-concurrent-calls",
        type=int,
        help="the server's MAX_CONCURRENT_CALLS (default: 2 x --concurrency; 0: the server's)",
    )
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    if args.max_concurrent_calls is None:
        args.max_concurrent_calls = 2 * args.concurrency
    if not (
        1 <= args.calls <= 20_000
        and 1 <= args.concurrency <= 500
        and 1 <= args.seconds <= 60
        and 0 <= args.warmup <= 1000
    ):
        parser.error("--calls 1..20000, --concurrency 1..500, --seconds 1..60, --warmup 0..1000")

    from tests.support.postgres import postgres_server, with_database

    from adapters.sql import upgrade_to_head

    invoked = "uv run python -m benchmarks.soak " + shlex.join(sys.argv[1:])
    print(f"command: {invoked}")
    print(
        f"machine: nproc={os.cpu_count()}  python {platform.python_version()}  "
        f"{platform.platform()}",
        flush=True,
    )
    t_start = time.monotonic()
    with postgres_server() as admin_url:
        database_url = admin_url
        if "TEST_DATABASE_URL" in os.environ:
            database_url = with_database(admin_url, admin_url.rsplit("/", 1)[-1])
        upgrade_to_head(database_url)
        workdir = Path(tempfile.mkdtemp(prefix="frontdesk-soak-"))
        procs = Processes(workdir)
        try:
            # the server's admission cap (MAX_CONCURRENT_CALLS, default 50) above the
            # driver's concurrency: at exactly the cap, a call whose webhook lands before
            # the previous call's stream has been released is turned away (busy)
            if args.max_concurrent_calls:
                os.environ["MAX_CONCURRENT_CALLS"] = str(args.max_concurrent_calls)
            agent_url = start_emulator(procs, args.seconds, module="benchmarks.soak_emulator")
            base, _command = start_server(procs, database_url, agent_url, workers=1)
            assert procs.server is not None
            assert procs.emulator is not None
            target = Target(
                base=base,
                pid=procs.server.pid,
                server_port=urlsplit(base).port or 0,
                emulator_port=urlsplit(agent_url).port or 0,
                pg_port=urlsplit(database_url).port or 5432,
            )
            time.sleep(2)  # let start-up settle before the baseline
            figures = asyncio.run(soak(args, target))
            log_tail = (workdir / "server.log").read_text(errors="replace").splitlines()
            procs.emulator.terminate()
            procs.emulator.wait(timeout=60)
            emu = json.loads((workdir / "emulator.json").read_text())
        finally:
            procs.stop()
    report(args, invoked, figures, emu, log_tail, time.monotonic() - t_start)


def report(
    args: argparse.Namespace,
    invoked: str,
    f: dict[str, Any],
    emu: dict[str, Any],
    log_lines: list[str],
    total_s: float,
) -> None:
    before: Sample = f["before"]
    warmed: Sample = f["warmed"]
    after: Sample = f["after"]
    outcomes = {
        k: after.outcomes.get(k, 0) - warmed.outcomes.get(k, 0)
        for k in sorted(set(after.outcomes) | set(warmed.outcomes))
    }
    print(
        f"\n=== soak: {args.calls} calls, {args.concurrency} at a time, "
        f"{args.seconds:g} s of caller audio each ==="
    )
    print(
        f"  run: {f['elapsed_s']:.0f} s ({args.calls / f['elapsed_s']:.2f} calls/s); "
        f"whole command {total_s:.0f} s"
    )
    print(f"  driver, calls by what it saw: {dict(f['endings'])}")
    for e in f["errors"]:
        print(f"    {e}")
    print(f"  server, calls by ending (frontdesk_calls_total, this run): {outcomes}")
    print(
        f"  emulator (all sessions incl. warm-up): sessions {emu['sessions']}, planned "
        f"{emu['kinds']}, reached their ending {emu['completed']}; tool requests "
        f"{emu['tool_requests']}, responses {emu['tool_responses']}; protocol errors "
        f"{len(emu['errors'])} {emu['errors'][:3]}; rejected handshakes "
        f"{emu['rejected_handshakes']}"
    )
    rss_limit = warmed.rss_mb * (1 + args.rss_tolerance)
    rows = [
        (
            "RSS (MB)",
            f"{before.rss_mb:.1f}",
            f"{warmed.rss_mb:.1f}",
            f"{after.rss_mb:.1f}",
            f"<= {rss_limit:.1f} (+{args.rss_tolerance:.0%})",
            after.rss_mb <= rss_limit,
        ),
        (
            "asyncio tasks",
            before.tasks,
            warmed.tasks,
            after.tasks,
            "== warm-up",
            after.tasks == warmed.tasks,
        ),
        (
            "emulator/client sockets",
            before.leaky_sockets,
            warmed.leaky_sockets,
            after.leaky_sockets,
            "== warm-up",
            after.leaky_sockets == warmed.leaky_sockets,
        ),
        (
            "Postgres sockets (pool)",
            before.pg_sockets,
            warmed.pg_sockets,
            after.pg_sockets,
            "",
            None,
        ),
        (
            "open fds",
            before.fds,
            warmed.fds,
            after.fds,
            "== warm-up +/- pool",
            after.fds - after.pg_sockets == warmed.fds - warmed.pg_sockets,
        ),
        ("active calls", before.active, warmed.active, after.active, "0", after.active == 0),
    ]
    print(f"\n  {'':<25} {'before':>8} {'warm-up':>8} {'after':>8}  {'target':<22} verdict")
    for label, b, w, a, target, ok in rows:
        verdict = "" if ok is None else ("ok" if ok else "LEAK?")
        print(f"  {label:<25} {b!s:>8} {w!s:>8} {a!s:>8}  {target:<22} {verdict}")
    print(
        f"  after the run, settled over {len(f['tail'])} samples: "
        + "; ".join(f"{s.rss_mb:.1f} MB/{s.tasks} tasks" for s in f["tail"])
    )
    ok = all(r[5] for r in rows if r[5] is not None)
    failed = f["endings"].get("FAILED", 0)
    print(
        f"\n  VERDICT: {'back to baseline' if ok else 'NOT BACK TO BASELINE'}; "
        f"{failed} of {sum(f['endings'].values())} calls failed (driver side)"
    )
    warnings = [ln for ln in log_lines if "ERROR" in ln or "Traceback" in ln]
    print(
        f"  server log: {len(log_lines)} lines, {len(warnings)} with ERROR/Traceback"
        + (f"; first: {warnings[:3]}" if warnings else "")
    )
    print(f"command: {invoked}")
    if args.json:

        def plain(s: Sample) -> dict[str, Any]:
            return {**s.__dict__, "sockets": dict(s.sockets)}

        Path(args.json).write_text(
            json.dumps(
                {
                    "command": invoked,
                    "elapsed_s": f["elapsed_s"],
                    "endings": dict(f["endings"]),
                    "errors": f["errors"],
                    "outcomes": outcomes,
                    "emulator": emu,
                    "before": plain(before),
                    "warmed": plain(warmed),
                    "after": plain(after),
                    "tail": [plain(s) for s in f["tail"]],
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
