"""`frontdesk doctor`: is this configuration ready to take calls? One line per check,
`ok|warn|fail|skip  name  detail  -> fix`; exit status 1 when any check fails."""

from __future__ import annotations

import argparse
from typing import Any


def add_doctor_parser(commands: Any) -> None:
    doctor = commands.add_parser(
        "doctor",
        help="check settings, database, practice file, credentials and PUBLIC_URL",
        description="Check the configuration this directory's environment and .env give. "
        "Contacts no provider unless --online.",
    )
    doctor.add_argument(
        "--online",
        action="store_true",
        help="also reach api.twilio.com and api.deepgram.com (and try the credentials)",
    )


def run_doctor(args: argparse.Namespace) -> int:
    """Settings that do not parse end the checks there: nothing else can be judged."""
    from pydantic import ValidationError

    from entrypoints.doctor import checks
    from entrypoints.failures import explain

    try:
        settings = checks.DoctorSettings()
    except ValidationError as error:
        fix = "correct it in the environment or .env"
        print(checks.Check("fail", "settings", explain(error), fix).line())
        return 1
    results = [
        checks.Check("ok", "settings", "parsed from the environment and .env"),
        checks.database(settings),
        checks.practice_file(settings),
        *checks.carrier(settings),
        checks.agent(settings),
        checks.public_url(settings),
        *(checks.online(settings) if args.online else checks.offline()),
    ]
    secrets = settings.secrets
    for result in results:
        line = result.line()
        for secret in secrets:
            line = line.replace(secret, "[redacted]")
        print(line)
    return 1 if any(r.status == "fail" for r in results) else 0
