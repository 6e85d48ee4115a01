"""`frontdesk staff ...` as an operator runs it: a real process on the embedded database."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.e2e.test_cli import FRONTDESK, env_without_database


def staff(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FRONTDESK, "staff", *args],
        cwd=tmp_path,
        env=env_without_database(tmp_path, LOG_LEVEL="WARNING"),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_staff_accounts_are_added_listed_and_removed_from_the_command_line(
    tmp_path: Path,
) -> None:
    added = staff(
        tmp_path,
        "add",
        "Ana@Example.com",
        "--role",
        "admin",
        "--password-stdin",
        stdin="correct horse battery\n",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added ana@example.com (admin)"
    assert "correct horse battery" not in added.stdout + added.stderr

    again = staff(
        tmp_path, "add", "ana@example.com", "--password-stdin", stdin="another long one\n"
    )
    assert again.returncode == 1
    assert "There is already a staff account for ana@example.com." in again.stderr

    short = staff(tmp_path, "add", "bo@example.com", "--password-stdin", stdin="short\n")
    assert short.returncode == 1
    assert "A password needs at least 12 characters." in short.stderr

    listed = staff(tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split("\t")[:2] == ["ana@example.com", "admin"]

    removed = staff(tmp_path, "remove", "ana@example.com")
    assert removed.returncode == 0, removed.stderr
    assert "no staff accounts yet" in staff(tmp_path, "list").stdout
    missing = staff(tmp_path, "remove", "ana@example.com")
    assert missing.returncode == 1
    assert "There is no staff account for ana@example.com." in missing.stderr
