"""One tool call, in process, on an idle throwaway Postgres: where its time goes.

    uv run python -m benchmarks.tool_cost [--calls 200] [--profile]

Runs `check_available_slots {"service": "checkup"}` through the container's
`ReceptionistTools` (the same object a call's session uses) sequentially, and prints
wall time and CPU time per call, and the number of Postgres round trips, so the
tool-turnaround figure of `benchmarks.calls` can be split into server work and
waiting. With `--profile`, a cProfile summary of the calls follows.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import time

TOOL_ARGUMENTS = '{"service": "checkup"}'


async def measure(calls: int, profile: bool) -> None:
    from application.receptionist.tools import CallContext
    from entrypoints.container import Container

    container = Container()
    tools = container.tools()
    context = CallContext(call_sid="CA" + "0" * 32, caller_phone=None)
    for _ in range(5):  # warm the pool and the prepared-statement caches
        await tools.invoke("check_available_slots", TOOL_ARGUMENTS, context)
    database = container.database()
    round_trips = 0

    from sqlalchemy import event

    def count(*_args: object) -> None:
        nonlocal round_trips
        round_trips += 1

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    profiler = cProfile.Profile() if profile else None
    wall, cpu = [], []
    if profiler:
        profiler.enable()
    for _ in range(calls):
        w0, c0 = time.perf_counter(), time.process_time()
        outcome = await tools.invoke("check_available_slots", TOOL_ARGUMENTS, context)
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    if profiler:
        profiler.disable()
    assert outcome.outcome == "ok", outcome.content
    wall.sort()
    cpu.sort()
    print(f"check_available_slots x{calls}, sequential, idle Postgres:")
    print(f"  wall ms: p50 {wall[len(wall) // 2]:.2f}  p99 {wall[int(len(wall) * 0.99)]:.2f}")
    print(f"  CPU ms (this process): p50 {cpu[len(cpu) // 2]:.2f}  mean {sum(cpu) / len(cpu):.2f}")
    print(f"  SQL statements per call (excluding pool pings): {round_trips / calls:.1f}")
    print(f"  result: {outcome.content[:160]}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue())
    await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    from tests.support.postgres import postgres_server

    from adapters.sql import upgrade_to_head

    with postgres_server() as url:
        upgrade_to_head(url)
        os.environ["DATABASE_URL"] = url
        asyncio.run(measure(max(1, min(args.calls, 10_000)), args.profile))


if __name__ == "__main__":
    main()
