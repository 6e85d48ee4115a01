"""flyctl failures in plain words: what went wrong and what the operator should do."""

from __future__ import annotations

import shlex
from collections.abc import Sequence


class FlyError(Exception):
    """A flyctl failure an operator can act on. Never carries a secret value."""

    def __init__(self, problem: str, remedy: str) -> None:
        super().__init__(f"{problem}; {remedy}")
        self.problem, self.remedy = problem, remedy


_KNOWN: list[tuple[tuple[str, ...], str, str]] = [
    (
        ("no access token", "not logged in", "unauthorized", "authenticate"),
        "flyctl is not logged in to Fly.io",
        "run `flyctl auth login`, then run `frontdesk setup` again",
    ),
    (
        ("already been taken", "already exists", "name is taken"),
        "that Fly app name is already taken",
        "choose another name with --fly-app NAME (names are global across Fly.io)",
    ),
    (
        ("payment", "credit card", "billing", "trial"),
        "Fly.io needs a payment method on the organization for this",
        "add one at https://fly.io/dashboard (Billing), then run `frontdesk setup` again",
    ),
    (
        ("could not find app", "app not found", "could not find an app"),
        "Fly.io has no such app",
        "check --fly-app and `flyctl apps list`; delete .frontdesk/setup.json's fly_app "
        "entry if the app was destroyed by hand",
    ),
    (
        ("timeout", "timed out", "connection refused", "no such host", "dial tcp"),
        "flyctl could not reach Fly.io",
        "check the network connection, then run the command again",
    ),
]


def translate(args: Sequence[str], returncode: int, stderr: str) -> FlyError:
    """Map a failed `flyctl args...` to plain words from its exit code and stderr."""
    command = "flyctl " + shlex.join(args)
    lowered = stderr.lower()
    for needles, problem, remedy in _KNOWN:
        if any(needle in lowered for needle in needles):
            return FlyError(f"{problem} (`{command}` failed)", remedy)
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    said = f": {lines[-1]}" if lines else ""
    return FlyError(
        f"`{command}` failed with exit code {returncode}{said}",
        "run that command yourself to see its full output, fix the cause, then run "
        "`frontdesk setup` again (it resumes where it stopped)",
    )


def not_installed() -> FlyError:
    return FlyError(
        "flyctl is not installed (neither `flyctl` nor `fly` is on PATH)",
        "install it from https://fly.io/docs/flyctl/install/, or pass --twilio-only",
    )
