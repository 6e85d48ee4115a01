"""Time to greeting: from the voice webhook to the first agent audio at the caller.

    uv run python -m benchmarks.greeting --calls 30
    uv run python -m benchmarks.greeting --calls 30 --concurrency 5

Processes (127.0.0.1): a throwaway Postgres, migrated; the server (`serve`); the
cloud-like agent `benchmarks.echo_emulator` (`Welcome` 300 ms after the handshake
starts, `SettingsApplied` 100 ms after `Settings`, the greeting's first audio 200 ms
after that) with the speak endpoint's strict fake (`--speak-delay-s`, default 0.3 s,
for servers that synthesise their greeting); and this driver. Each call: signed voice
webhook -> TwiML -> 150 ms (the carrier's gap before it opens the stream) -> signed
media stream -> the first agent audio -> 0.5 s of caller audio -> `stop`.

Figures: time to greeting p50/p95/max over the calls after the first (the first may
warm caches: it is shown on its own), the webhook's own answer time, and the server's
CPU per call (set-up, 0.5 s of audio, teardown).
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
from pathlib import Path

import httpx

from benchmarks.calls import Processes, start_profiler, start_server, top_frames, tree_cpu_s
from benchmarks.echo_calls import (
    CLOUD_DELAYS,
    CallRecord,
    echo_call,
    figures_ms,
    start_echo_emulator,
    workdir_for,
)


async def drive(n: int, concurrency: int, base: str, gap_s: float) -> list[CallRecord]:
    records: list[CallRecord] = []
    indices = iter(range(n))
    async with httpx.AsyncClient(timeout=30) as client:

        async def worker() -> None:
            for index in indices:
                records.append(
                    await echo_call(index, client=client, base=base, hold_s=0.5, gap_s=gap_s)
                )

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sorted(records, key=lambda r: r.index)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.greeting",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="server worker processes (default 1)"
    )
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=1, help="calls at a time")
    parser.add_argument("--gap-s", type=float, default=0.150, help="webhook answer -> stream")
    parser.add_argument("--speak-delay-s", type=float, default=0.3)
    parser.add_argument(
        "--server-env", action="append", default=[], help="KEY=VALUE for the server (repeatable)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="record the server with py-spy into this directory (uv run --with py-spy ...)",
    )
    args = parser.parse_args()
    if not 1 <= args.calls <= 1000 or not 1 <= args.concurrency <= 100:
        parser.error("--calls 1..1000, --concurrency 1..100")

    from tests.support.postgres import postgres_server

    from adapters.sql import upgrade_to_head

    invoked = "uv run python -m benchmarks.greeting " + shlex.join(sys.argv[1:])
    print(f"command: {invoked}")
    print(f"machine: nproc={os.cpu_count()}  python {platform.python_version()}")
    print(f"agent: {CLOUD_DELAYS}, carrier gap {args.gap_s * 1000:.0f} ms")
    with postgres_server() as database_url:
        upgrade_to_head(database_url)
        procs = Processes(workdir_for("greeting"))
        try:
            agent_url, speak_url = start_echo_emulator(
                procs, delays=CLOUD_DELAYS, speak_delay_s=args.speak_delay_s
            )
            env = {"DEEPGRAM_SPEAK_URL": f"{speak_url}/v1/speak"}
            env.update(kv.split("=", 1) for kv in args.server_env)
            base, _ = start_server(
                procs, database_url, agent_url, extra_env=env, workers=args.workers
            )
            assert procs.server is not None
            time.sleep(2.0)  # let start-up work (a greeting synthesised at start) settle
            profiler = None
            if args.profile is not None:
                args.profile.mkdir(parents=True, exist_ok=True)
                profiler = start_profiler(procs.server.pid, args.profile / "greeting.txt")
            cpu0 = tree_cpu_s(procs.server.pid)
            records = asyncio.run(drive(args.calls, args.concurrency, base, args.gap_s))
            time.sleep(1.0)  # teardown of the last call
            cpu = tree_cpu_s(procs.server.pid) - cpu0
            if profiler is not None:
                import signal

                profiler.send_signal(signal.SIGINT)
                profiler.wait(timeout=60)
                for line in top_frames(args.profile / "greeting.txt", 30):
                    print("  " + line)
        finally:
            procs.stop()
        failed = [r for r in records if r.error]
        good = [r for r in records if r.greeting_s is not None]
        print(f"calls: {len(records)}, failed: {len(failed)}")
        for r in failed[:5]:
            print(f"  call {r.index}: {r.error}")
        if good:
            first = good[0]
            rest = [r.greeting_s for r in good[1:] if r.greeting_s is not None]
            print(f"time to greeting, first call: {first.greeting_s * 1000:.0f} ms")  # type: ignore[operator]
            print(f"time to greeting, the others: {figures_ms(rest)}")
            webhook = [r.webhook_s for r in good if r.webhook_s is not None]
            print(f"voice webhook answer:         {figures_ms(webhook)}")
        per_call_ms = cpu * 1000 / max(1, len(records))
        print(f"server CPU per call (set-up, 0.5 s of audio, teardown): {per_call_ms:.1f} ms")
        shutil.rmtree(procs.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
