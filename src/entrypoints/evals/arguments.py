"""`frontdesk eval`'s arguments (standard library only: `frontdesk --help` stays fast)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

DESCRIPTION = """Run conversation scenarios against the receptionist and check what it did.

Each scenario (a TOML file: the caller's lines, the scripted agent's lines and tools,
and the expected outcome) runs on a fresh embedded database, through a local server,
over the real Twilio webhook and media stream. Without paths: the shipped scenarios
for the sample dental office. Exit status 1 when any scenario fails."""


def add_eval_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "eval",
        help="run conversation scenarios and print a pass/fail table",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="scenario files or directories of them (default: the shipped scenarios)",
    )
    parser.add_argument(
        "--agent",
        choices=("scripted", "deepgram"),
        default="scripted",
        help="scripted (default): the scenario's own agent lines and tools; deepgram: the "
        "real voice agent (DEEPGRAM_API_KEY), sent the caller's lines as text",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
