"""Runs `flyctl` as a subprocess. Secret values go through stdin, never argv.

Each method is one flyctl command; a non-zero exit becomes a `FlyError` in plain words.
stdin is closed for every command but `secrets import`, so flyctl never waits on a prompt.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from adapters.fly.errors import FlyError, not_installed, translate

COMMAND_TIMEOUT_S = 15 * 60  # a remote deploy builds an image
_ATTACHED_URL = re.compile(r"DATABASE_URL=(\S+)")


class Flyctl:
    def __init__(self, executable: str) -> None:
        self._executable = executable

    @classmethod
    def find(cls) -> Flyctl | None:
        """The `flyctl` (or `fly`) on PATH, or None when neither is installed."""
        found = shutil.which("flyctl") or shutil.which("fly")
        return cls(found) if found else None

    def _run(self, args: Sequence[str], *, stdin: str | None = None) -> str:
        try:
            done = subprocess.run(  # noqa: S603 - fixed executable, no shell
                [self._executable, *args],
                input=stdin,
                stdin=None if stdin is not None else subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT_S,
                check=False,
            )
        except FileNotFoundError:
            raise not_installed() from None
        except subprocess.TimeoutExpired:
            raise FlyError(
                f"`flyctl {' '.join(args[:2])}` took longer than {COMMAND_TIMEOUT_S} s",
                "check `flyctl status` and run `frontdesk setup` again",
            ) from None
        if done.returncode != 0:
            raise translate(args, done.returncode, done.stderr)
        return done.stdout

    def whoami(self) -> str:
        return self._run(["auth", "whoami"]).strip()

    def create_app(self, app: str, *, org: str) -> None:
        self._run(["apps", "create", app, "--org", org])

    def create_postgres(self, name: str, *, org: str, region: str) -> None:
        """The smallest single-node cluster; flags given so flyctl asks nothing."""
        flags = {
            "--name": name,
            "--org": org,
            "--region": region,
            "--initial-cluster-size": "1",
            "--vm-size": "shared-cpu-1x",
            "--volume-size": "1",
        }
        self._run(["postgres", "create", *(part for pair in flags.items() for part in pair)])

    def attach_postgres(self, cluster: str, *, app: str) -> str | None:
        """Attaches `cluster` to `app` (flyctl sets the app's DATABASE_URL secret) and
        returns the URL flyctl reports, or None if its output did not include it."""
        out = self._run(["postgres", "attach", cluster, "--app", app, "--yes"])
        found = _ATTACHED_URL.search(out)
        return found.group(1) if found else None

    def import_secrets(self, app: str, secrets: Mapping[str, str]) -> None:
        """Stages `secrets` for the next deploy; values are written to flyctl's stdin."""
        for name, value in secrets.items():
            if "\n" in value or "\r" in value:
                raise FlyError(
                    f"the value of {name} spans several lines", "put it on one line in .env"
                )
        lines = "".join(f"{name}={value}\n" for name, value in secrets.items())
        self._run(["secrets", "import", "--app", app, "--stage"], stdin=lines)

    def deploy(self, app: str, *, config: Path) -> None:
        self._run(["deploy", "--app", app, "--config", str(config), "--remote-only", "--ha=false"])

    def destroy_app(self, app: str) -> None:
        self._run(["apps", "destroy", app, "--yes"])
