"""Does another ASGI server, or another of uvicorn's WebSocket implementations, carry the
same calls for less CPU? The same app, the same traffic, back to back.

    uv run --with granian --with wsproto python -m benchmarks.server_choice
    uv run --with granian python -m benchmarks.server_choice --calls 5 --seconds 3 \\
        --repeat 1 --variants granian                                       # quick

Each run is one `benchmarks.calls` run (N calls x S seconds through one server process,
a fresh Deepgram emulator, one throwaway Postgres for all runs) with the server started
another way. Variants:

- `uvicorn`: `frontdesk serve --workers 1`, as deployed (uvicorn's `ws="auto"`, which
  picks `websockets-sansio` when `websockets` is installed);
- `uvicorn-sansio`: the same with `ws="websockets-sansio"` named: the same server as
  `uvicorn`, run as a control of how far two runs of one server differ;
- `uvicorn-websockets`: uvicorn's older `websockets` (asyncio, legacy) implementation;
- `uvicorn-wsproto`: uvicorn on `wsproto` (needs `--with wsproto`);
- `granian`: granian (Rust HTTP and WebSocket handling) on the ASGI interface with
  uvloop and one worker, serving `benchmarks.granian_app` (needs `--with granian`);
- `granian-st`: the same on a single-threaded Rust runtime (for ASGI granian picks
  its multi-threaded one);
- `granian-rust-tasks`: the same with granian's Rust task implementation.

The uvicorn variants go through `benchmarks.uvicorn_ws`, which only adds uvicorn's `ws`
option to `frontdesk serve`. The default variants are `uvicorn`, `uvicorn-sansio`,
`uvicorn-wsproto` and `granian`. Variants run in turn, the order reversed every other
repeat (A B C, C B A, A B C, ...), so that a drift of the machine over the whole run
weighs on every variant alike. A variant that cannot start (its package is missing) is
left out, and said so.

Per run and per variant: the server's steady CPU per call-second (its whole process
tree: granian runs the app in a worker process under a supervisor), the same above the
idle server, frame latency p99 both ways, frames lost / reordered, barge-in p99, tool
turnaround p99, peak RSS, and whether the run was saturated (machine over 95% busy or
the harness's event loop lagging, as `benchmarks.calls` judges): a saturated run
measured the machine as much as the server. On 2 cores the driver and emulator share
the machine with the server; compare variants within one invocation, not across.

Measured 2026-12-06, 50 calls x 15 s, three invocations of two runs each on this
2-core machine with other work on it: uvicorn as deployed 4.5-6.1 ms per call-second,
granian 6.6-7.6 (on its single-threaded runtime 7.2-7.4), uvicorn on `wsproto` 5.8-6.5,
on legacy `websockets` 5.3-5.4. Every run relayed every frame, in order, and answered
every barge-in. Granian hands each message between its Rust threads and the thread of
the Python event loop (a GIL hand-off and a wake-up of the loop per message: under
strace about 2.8 times uvicorn's system calls per message), which costs more than the
framing it takes out of Python.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import shlex
import statistics
import sys
from pathlib import Path
from typing import Any

from benchmarks.calls import (
    ROOT,
    Processes,
    ServerStarter,
    free_port,
    launch_server,
    run_once,
    serve_one_process,
    server_env,
)

DEFAULT_VARIANTS = ("uvicorn", "uvicorn-sansio", "uvicorn-wsproto", "granian")


def _with_path(env: dict[str, str]) -> dict[str, str]:
    """The server runs in a scratch directory: the benchmarks package must be importable."""
    path = env.get("PYTHONPATH")
    return {**env, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}


def uvicorn_ws(ws: str) -> ServerStarter:
    def start(procs: Processes, database_url: str, agent_url: str) -> tuple[str, list[str]]:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "benchmarks.uvicorn_ws", ws, "serve"]
        command += ["--port", str(port), "--workers", "1"]
        env = _with_path(server_env(database_url, agent_url, base))
        return launch_server(procs, command, env, base), command

    return start


def granian(*extra: str) -> ServerStarter:
    def start(procs: Processes, database_url: str, agent_url: str) -> tuple[str, list[str]]:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "granian", "--interface", "asgi", "--loop", "uvloop"]
        command += ["--workers", "1", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--log-level", "warning", "--no-access-log", *extra]
        command += ["benchmarks.granian_app:app"]
        env = _with_path(server_env(database_url, agent_url, base))
        return launch_server(procs, command, env, base), command

    return start


VARIANTS: dict[str, tuple[ServerStarter, str | None]] = {
    "uvicorn": (serve_one_process, None),
    "uvicorn-sansio": (uvicorn_ws("websockets-sansio"), None),
    "uvicorn-websockets": (uvicorn_ws("websockets"), None),
    "uvicorn-wsproto": (uvicorn_ws("wsproto"), "wsproto"),
    "granian": (granian(), "granian"),
    "granian-st": (granian("--runtime-mode", "st"), "granian"),
    "granian-rust-tasks": (granian("--task-impl", "rust"), "granian"),
}
"""Each variant's server, and the package it needs beyond the project's."""


def run_line(variant: str, f: dict[str, Any]) -> str:
    """One run in one line."""
    lost = f["c2a_lost"] + f["a2c_lost"]
    reordered = f["c2a_reordered"] + f["a2c_reordered"]
    line = (
        f"{variant:<19} cpu {f['cpu_ms_per_call_s_steady']:5.2f} ms/call-s"
        f" (above idle {f['cpu_ms_per_call_s_marginal']:5.2f}, {f['steady_calls']} calls"
        f" x {f['steady_window_s']:.1f} s; idle {f['server_idle_cores'] * 1000:.0f} ms/s)"
        f"  p99 c2a {f['c2a']['p99']:5.2f} a2c"
        f" {f['a2c']['p99']:5.2f}  lost/reord {lost}/{reordered}  barge p99"
        f" {f['barge_in']['p99']:5.2f} (missing {f['barge_in_missing']})  tool p99"
        f" {f['tool']['p99']:6.2f}  RSS {f['server_peak_rss_mb']:5.1f} MB"
        f"  busy {f['machine_busy_steady'] * 100:3.0f}%"
        f"{'  SATURATED' if f['saturated'] else ''}"
    )
    if f["errors"]:
        line += f"\n    {len(f['errors'])} call error(s); first: {f['errors'][:2]}"
    if f["emulator_errors"]:
        line += f"\n    emulator protocol errors: {f['emulator_errors'][:3]}"
    return line


def mean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return statistics.fmean(finite) if finite else float("nan")


def print_table(runs: dict[str, list[dict[str, Any]]]) -> None:
    print("\n=== per variant: mean over its runs (each run's value in brackets) ===")
    head = (
        f"{'variant':<19} {'cpu ms/call-s':>24} {'above idle':>10} {'idle ms/s':>9} {'c2a p99':>8} "
        f"{'a2c p99':>8} {'lost/reord':>10} {'barge p99':>9} {'tool p99':>8} "
        f"{'RSS MB':>7}  saturated"
    )
    print(head)
    for variant, figures in runs.items():
        if not figures:
            continue
        cpus = [f["cpu_ms_per_call_s_steady"] for f in figures]
        each = "[" + " ".join(f"{c:.2f}" for c in cpus) + "]"
        lost = sum(f["c2a_lost"] + f["a2c_lost"] for f in figures)
        reordered = sum(f["c2a_reordered"] + f["a2c_reordered"] for f in figures)
        missing = sum(f["barge_in_missing"] for f in figures)
        errors = sum(len(f["errors"]) for f in figures)
        saturated = sum(1 for f in figures if f["saturated"])
        print(
            f"{variant:<19} {mean(cpus):>6.2f} {each:>17} "
            f"{mean([f['cpu_ms_per_call_s_marginal'] for f in figures]):>10.2f} "
            f"{mean([f['server_idle_cores'] * 1000 for f in figures]):>9.1f} "
            f"{mean([f['c2a']['p99'] for f in figures]):>8.2f} "
            f"{mean([f['a2c']['p99'] for f in figures]):>8.2f} "
            f"{f'{lost}/{reordered}':>10} "
            f"{mean([f['barge_in']['p99'] for f in figures]):>9.2f} "
            f"{mean([f['tool']['p99'] for f in figures]):>8.2f} "
            f"{max(f['server_peak_rss_mb'] for f in figures):>7.1f}  "
            f"{saturated} of {len(figures)}"
            + (f"  ({missing} barge-in(s) missing)" if missing else "")
            + (f"  ({errors} call error(s))" if errors else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.server_choice",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--calls", type=int, default=50, help="concurrent calls (default 50)")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each call")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each variant (default 2)")
    parser.add_argument(
        "--variants",
        default=",".join(DEFAULT_VARIANTS),
        help=f"comma list of {', '.join(VARIANTS)} (default {','.join(DEFAULT_VARIANTS)})",
    )
    parser.add_argument("--json", help="also write every run's figures to this JSON file")
    args = parser.parse_args()
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown or not names:
        parser.error(f"unknown variant(s) {unknown}; choose from {', '.join(VARIANTS)}")
    if not 1 <= args.calls <= 1000 or not 1 <= args.seconds <= 600 or not 1 <= args.repeat <= 10:
        parser.error("--calls 1..1000, --seconds 1..600, --repeat 1..10")

    from tests.support.postgres import postgres_server

    from adapters.sql import upgrade_to_head

    extras = sorted({p for _, p in VARIANTS.values() if p and importlib.util.find_spec(p)})
    print(
        "command: uv run "
        + "".join(f"--with {package} " for package in extras)
        + "python -m benchmarks.server_choice "
        + shlex.join(sys.argv[1:])
    )
    print(
        f"machine: nproc={os.cpu_count()}  python {platform.python_version()}  "
        f"{platform.platform()}"
    )
    variants = []
    for name in names:
        package = VARIANTS[name][1]
        if package is not None and importlib.util.find_spec(package) is None:
            print(f"{name}: left out, `{package}` is not installed (uv run --with {package} ...)")
        else:
            variants.append(name)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    commands: dict[str, list[str]] = {}
    print(f"{args.calls} calls x {args.seconds:g} s, {args.repeat} run(s) of each\n")
    with postgres_server() as database_url:
        upgrade_to_head(database_url)
        for repeat in range(args.repeat):
            order = variants if repeat % 2 == 0 else variants[::-1]
            for name in order:
                figures, commands[name] = run_once(
                    args.calls, args.seconds, database_url, start=VARIANTS[name][0]
                )
                figures.pop("server_log_tail", None)
                figures["variant"] = name
                runs[name].append(figures)
                print(run_line(name, figures), flush=True)
    print_table(runs)
    print(f"\nservers (python = {sys.executable}):")
    for name, command in commands.items():
        print(f"  {name:<19} {shlex.join(command[1:])}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"argv": sys.argv[1:], "runs": runs, "commands": commands}, indent=1)
        )


if __name__ == "__main__":
    main()
