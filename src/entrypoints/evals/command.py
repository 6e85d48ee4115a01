"""`frontdesk eval`: load every scenario first (a bad file fails before any call), run
them one after another, print a table (or JSON), exit 1 when any failed."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TextIO

from entrypoints.evals.runner import ScenarioResult, run_scenario
from entrypoints.evals.scenario import Scenario, load_scenario, scenario_paths
from entrypoints.failures import OperatorError
from entrypoints.settings import DEFAULT_PRACTICE_FILE, SCENARIOS_DIR, Settings


def run_eval(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout) -> int:
    """The shipped scenarios run against the sample practice; scenarios given as paths
    run against PRACTICE_FILE (the practice being tested)."""
    from adapters.practice_file import load_practice
    from entrypoints.observability.logging import configure_logging

    configure_logging(level="WARNING", log_format=settings.log_format, secrets=settings.secrets)
    if not args.paths:
        settings = settings.model_copy(update={"practice_file": DEFAULT_PRACTICE_FILE})
    if args.agent == "deepgram" and settings.deepgram_api_key is None:
        raise OperatorError(
            "DEEPGRAM_API_KEY", "not set", "set it to run the scenarios against Deepgram's agent"
        )
    practice = load_practice(settings.practice_file, settings.default_region)
    scenarios = [
        load_scenario(path, practice) for path in scenario_paths(args.paths or [SCENARIOS_DIR])
    ]
    results = asyncio.run(_run_all(scenarios, settings, args.agent, out, quiet=args.json))
    if args.json:
        print(json.dumps(_as_json(results, args.agent), indent=2), file=out)
    else:
        _print_table(results, args.agent, out)
    return 0 if all(r.passed for r in results) else 1


async def _run_all(
    scenarios: list[Scenario], settings: Settings, agent: str, out: TextIO, *, quiet: bool
) -> list[ScenarioResult]:
    results = []
    for scenario in scenarios:
        if not quiet:
            print(f"-- {scenario.name} ({scenario.path.name}) ...", file=out, flush=True)
        results.append(await run_scenario(scenario, settings, agent))
    return results


def _print_table(results: list[ScenarioResult], agent: str, out: TextIO) -> None:
    width = max(len(r.name) for r in results)
    print(f"\n{'scenario':<{width}}  result  seconds  ({agent} agent)", file=out)
    for r in results:
        verdict = "pass" if r.passed else "FAIL"
        first = f"  {r.failures[0]}" if r.failures else ""
        print(f"{r.name:<{width}}  {verdict:<6}  {r.seconds:7.1f}{first}", file=out)
    failed = [r for r in results if not r.passed]
    for r in failed:
        print(f"\n== {r.name} ({r.path}) failed:", file=out)
        for failure in r.failures:
            print(f"   - {failure}", file=out)
        print("   the call:", file=out)
        for line in r.transcript.splitlines():
            print(f"   {line}", file=out)
    passed = len(results) - len(failed)
    print(f"\n{passed} of {len(results)} scenarios passed", file=out, flush=True)


def _as_json(results: list[ScenarioResult], agent: str) -> dict[str, object]:
    return {
        "agent": agent,
        "passed": all(r.passed for r in results),
        "scenarios": [
            {
                "name": r.name,
                "path": r.path,
                "passed": r.passed,
                "failures": r.failures,
                "seconds": r.seconds,
                "transcript": r.transcript.splitlines(),
            }
            for r in results
        ],
    }
