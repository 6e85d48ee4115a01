"""`frontdesk setup`: put the receptionist on a Twilio number, deployed to Fly.io when
flyctl is installed. The flow lives in `flow`; this module is the command's surface."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_setup_parser(commands: Any) -> None:
    """Registers `setup` on the CLI's subparsers (`commands`, from `add_subparsers`)."""
    setup = commands.add_parser(
        "setup",
        help="point a Twilio number at this server (and deploy to Fly.io with flyctl)",
        description="Pick or buy a Twilio number, deploy to Fly.io when flyctl is installed "
        "(unless --twilio-only), and point the number's webhooks at the server. Progress is "
        "kept in .frontdesk/setup.json, which holds no secrets.",
    )
    mode = setup.add_mutually_exclusive_group()
    mode.add_argument("--status", action="store_true", help="show the saved number's webhooks")
    mode.add_argument("--update-url", metavar="URL", help="point the saved number at URL")
    mode.add_argument(
        "--teardown",
        action="store_true",
        help="un-point the number; destroy the Fly app after confirmation",
    )
    setup.add_argument("--twilio-only", action="store_true", help="skip Fly.io entirely")
    setup.add_argument("--number", help="use this number of the account (+1... or PN sid)")
    setup.add_argument("--buy", action="store_true", help="buy a new number (see --area-code)")
    setup.add_argument("--area-code", help="where to search for a number to buy, e.g. 415")
    setup.add_argument("--fly-app", metavar="NAME", help="Fly app name (default: generated)")
    setup.add_argument(
        "--release-number",
        action="store_true",
        help="with --teardown: give the number back to Twilio (permanent)",
    )
    setup.add_argument(
        "-y", "--yes", action="store_true", help="confirm purchases and deletions without asking"
    )


def run_setup(args: argparse.Namespace) -> int:
    """Runs the command; every Twilio, Fly or input problem ends as two plain lines on
    stderr (what went wrong, what to do) and exit code 1."""
    from adapters.fly import FlyError
    from adapters.twilio_rest import TwilioSetupError
    from entrypoints.setup.console import Console, SetupFailed
    from entrypoints.setup.flow import Setup
    from entrypoints.setup.settings import SetupSettings

    console = Console(assume_yes=args.yes)
    try:
        setup = Setup(SetupSettings(), console)
        if args.status:
            return setup.status()
        if args.update_url:
            return setup.update_url(args.update_url)
        if args.teardown:
            return setup.teardown(args)
        return setup.guided(args)
    except (SetupFailed, TwilioSetupError, FlyError) as failure:
        print(f"frontdesk setup: {failure.problem}", file=sys.stderr)
        print(f"  what to do: {failure.remedy}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("\nfrontdesk setup: stopped; run it again to resume", file=sys.stderr)
        return 130
