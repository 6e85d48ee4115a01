"""Bursts of new calls: what they do to the calls already talking.

    uv run python -m benchmarks.burst                   # both scenarios
    uv run python -m benchmarks.burst --only burst      # or: --only ramp

Processes as `benchmarks.greeting` (the same cloud-like echo agent and speak fake).
Every caller frame is tagged, echoed by the agent and timed when it comes back: the
relay round trip caller -> server -> agent -> server -> caller, on the driver's clock.

1. burst: `--live` calls (default 50) set up and talking; then `--burst` new calls
   (default 100) start within 2 s. Figures: the live calls' round trip p99 and max
   before the burst (3 s) and during it (from its first webhook until every new call
   has heard its greeting, plus 1 s), and the new calls' time to greeting.
2. ramp: `--ramp` calls (default 100) started over 2 s and held `--hold-s` (default
   20): round trip p99, p99.9 and max over the whole run, and without each call's first
   second after its greeting began (those echoes wait behind the greeting's audio).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import shutil
import sys
import time
from typing import Any

import httpx

from benchmarks.calls import Processes, start_server, tree_cpu_s
from benchmarks.echo_calls import (
    CLOUD_DELAYS,
    CallRecord,
    echo_call,
    figures_ms,
    rtt_figures,
    rtt_line,
    start_echo_emulator,
    workdir_for,
)

GREETING_PLAYOUT_NS = 1_000_000_000
"""A call's first second after its greeting began: the caller frames sent then come back
behind the greeting's audio, which plays in real time (queued by design, not delay)."""


async def staggered(
    client: httpx.AsyncClient, base: str, first: int, n: int, over_s: float, hold_s: float
) -> list[asyncio.Task[CallRecord]]:
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    tasks = []
    for i in range(n):
        delay = t0 + over_s * i / max(1, n) - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(
            asyncio.create_task(echo_call(first + i, client=client, base=base, hold_s=hold_s))
        )
    return tasks


def errors_of(records: list[CallRecord]) -> list[str]:
    return [f"call {r.index}: {r.error}" for r in records if r.error]


async def burst(base: str, live: int, new: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        live_tasks = await staggered(client, base, 0, live, 2.0, hold_s=25.0)
        await asyncio.sleep(6.0)  # every live call set up and talking
        calm_from = time.monotonic_ns()
        await asyncio.sleep(3.0)
        burst_from = time.monotonic_ns()
        new_tasks = await staggered(client, base, live, new, 2.0, hold_s=3.0)
        new_records = await asyncio.gather(*new_tasks)
        setups = [r.setup_done_ns for r in new_records if r.setup_done_ns is not None]
        burst_to = max(setups, default=time.monotonic_ns()) + 1_000_000_000
        live_records = await asyncio.gather(*live_tasks)
    calm = [rtt for r in live_records for sent, rtt in r.rtts if calm_from <= sent < burst_from]
    during = [rtt for r in live_records for sent, rtt in r.rtts if burst_from <= sent < burst_to]
    return {
        "calm": rtt_figures(calm),
        "during": rtt_figures(during),
        "burst_s": (burst_to - burst_from) / 1e9,
        "greetings": [r.greeting_s for r in new_records if r.greeting_s is not None],
        "errors": errors_of([*live_records, *new_records]),
    }


async def ramp(base: str, n: int, hold_s: float) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        tasks = await staggered(client, base, 0, n, 2.0, hold_s=hold_s)
        records = await asyncio.gather(*tasks)
    talking = [
        rtt
        for r in records
        if r.setup_done_ns is not None
        for sent, rtt in r.rtts
        if sent >= r.setup_done_ns + GREETING_PLAYOUT_NS
    ]
    return {
        "all": rtt_figures([rtt for r in records for _, rtt in r.rtts]),
        "talking": rtt_figures(talking),
        "greetings": [r.greeting_s for r in records if r.greeting_s is not None],
        "errors": errors_of(records),
    }


def run(scenario: str, args: argparse.Namespace, database_url: str) -> None:
    procs = Processes(workdir_for(f"burst-{scenario}"))
    try:
        agent_url, speak_url = start_echo_emulator(
            procs, delays=CLOUD_DELAYS, speak_delay_s=args.speak_delay_s
        )
        env = {"DEEPGRAM_SPEAK_URL": f"{speak_url}/v1/speak"}
        env.update(kv.split("=", 1) for kv in args.server_env)
        base, _ = start_server(procs, database_url, agent_url, extra_env=env, workers=args.workers)
        assert procs.server is not None
        time.sleep(2.0)
        cpu0, t0 = tree_cpu_s(procs.server.pid), time.monotonic()
        if scenario == "burst":
            f = asyncio.run(burst(base, args.live, args.burst))
        else:
            f = asyncio.run(ramp(base, args.ramp, args.hold_s))
        cores = (tree_cpu_s(procs.server.pid) - cpu0) / (time.monotonic() - t0)
    finally:
        procs.stop()
    print(f"\n{scenario}: server busy {cores:.2f} cores on average; errors: {len(f['errors'])}")
    for line in f["errors"][:5]:
        print(f"  {line}")
    if scenario == "burst":
        print(f"  live calls' round trip, 3 s before:  {rtt_line(f['calm'])}")
        print(f"  during the burst ({f['burst_s']:.1f} s):       {rtt_line(f['during'])}")
    else:
        print(f"  round trip, whole run:  {rtt_line(f['all'])}")
        print(f"  after each greeting:    {rtt_line(f['talking'])}")
    print(f"  new calls' time to greeting: {figures_ms(f['greetings'])}")
    shutil.rmtree(procs.workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.burst",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="server worker processes (default 1)"
    )
    parser.add_argument("--only", choices=["burst", "ramp"])
    parser.add_argument("--live", type=int, default=50)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--ramp", type=int, default=100)
    parser.add_argument("--hold-s", type=float, default=20.0)
    parser.add_argument("--speak-delay-s", type=float, default=0.3)
    parser.add_argument(
        "--server-env", action="append", default=[], help="KEY=VALUE for the server (repeatable)"
    )
    args = parser.parse_args()

    from tests.support.postgres import postgres_server

    from adapters.sql import upgrade_to_head

    print("command: uv run python -m benchmarks.burst " + shlex.join(sys.argv[1:]))
    print(f"machine: nproc={os.cpu_count()}  python {platform.python_version()}")
    with postgres_server() as database_url:
        upgrade_to_head(database_url)
        for scenario in ("burst", "ramp"):
            if args.only in (None, scenario):
                run(scenario, args, database_url)


if __name__ == "__main__":
    main()
