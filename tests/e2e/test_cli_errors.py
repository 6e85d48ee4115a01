"""The `frontdesk` command's start-up and failures as an operator meets them: a real
process, one `error:` line naming the setting or the cause, the traceback only on
`--debug`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

FRONTDESK = [sys.executable, "-m", "entrypoints.cli"]
SERVER_LIBRARIES = ("litestar", "sqlalchemy", "twilio", "uvicorn", "alembic", "httpx")


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test's environment without any frontdesk setting, plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "PRACTICE_FILE", "DATABASE_POOL_SIZE", "LOG_LEVEL"}
    }
    return {**env, "FRONTDESK_DATA_DIR": str(tmp_path / "data"), **extra}


def frontdesk(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FRONTDESK, *args],
        cwd=tmp_path,
        env=clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    "code",
    [
        "import entrypoints.cli",
        "import contextlib, entrypoints.cli as c\n"
        "with contextlib.suppress(SystemExit): c.main(['--help'])",
    ],
    ids=["import", "help"],
)
def test_the_cli_and_its_help_load_none_of_the_server_libraries(tmp_path: Path, code: str) -> None:
    probe = f"{code}\nimport sys\nprint(sorted({{m.split('.')[0] for m in sys.modules}}))"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    loaded = set(eval(result.stdout.splitlines()[-1]))  # a printed list of names
    assert loaded.isdisjoint(SERVER_LIBRARIES), loaded & set(SERVER_LIBRARIES)


def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    result = frontdesk(tmp_path, "check-practice", DATABASE_POOL_SIZE="0")
    assert result.returncode == 1
    assert result.stderr == (
        "error: DATABASE_POOL_SIZE: Input should be greater than or equal to 1\n"
    )


@pytest.mark.parametrize(
    "args", [("--debug", "check-practice"), ("check-practice", "--debug")], ids=["before", "after"]
)
def test_debug_shows_the_traceback_as_well(tmp_path: Path, args: tuple[str, str]) -> None:
    result = frontdesk(tmp_path, *args, DATABASE_POOL_SIZE="0")
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.endswith(
        "error: DATABASE_POOL_SIZE: Input should be greater than or equal to 1\n"
    )


def test_a_broken_practice_file_is_one_line_naming_the_file_and_key(tmp_path: Path) -> None:
    practice = Path(__file__).parents[2] / "src/entrypoints/practices/dental_office.toml"
    broken = tmp_path / "practice.toml"
    broken.write_text(practice.read_text().replace('"cleaning"', '"whitening"', 1))
    result = frontdesk(tmp_path, "serve", PRACTICE_FILE=str(broken))
    assert result.returncode == 1
    assert result.stderr == (  # the service was renamed; a provider still offers it
        f"error: PRACTICE_FILE {broken}: providers[2].services: unknown service ids ['cleaning']\n"
    )
    assert not (tmp_path / "data").exists()  # stopped before touching the database


def test_migrating_an_unreachable_database_names_it_without_the_password(tmp_path: Path) -> None:
    port = closed_port()
    url = f"postgresql://frontdesk:s3cret-password@127.0.0.1:{port}/clinic"
    result = frontdesk(tmp_path, "migrate", DATABASE_URL=url)
    assert result.returncode == 1
    assert result.stderr == (
        f"error: DATABASE_URL: nothing accepts connections at 127.0.0.1:{port}/clinic "
        "(is Postgres running?) -> check the URL and the database server\n"
    )
    assert "s3cret-password" not in result.stdout + result.stderr


def test_migrating_with_a_url_that_is_not_one_says_what_shape_is_expected(
    tmp_path: Path,
) -> None:
    result = frontdesk(tmp_path, "migrate", DATABASE_URL="localhost:5432 user=frontdesk")
    assert result.returncode == 1
    assert result.stderr.startswith("error: DATABASE_URL: not a database URL")
    assert "postgresql://user:password@host:5432/dbname" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("this is not SQLite\n" * 100)
    result = frontdesk(tmp_path, "migrate", DATABASE_URL=f"sqlite:///{notes}")
    assert result.returncode == 1
    assert result.stderr == (
        f"error: DATABASE_URL: the SQLite file {notes} is not a SQLite database "
        "-> check the URL and the database server\n"
    )


def test_more_than_one_worker_on_sqlite_is_refused_before_anything_starts(tmp_path: Path) -> None:
    result = frontdesk(tmp_path, "serve", "--workers", "2")
    assert result.returncode == 1
    assert result.stderr == (
        "error: WORKERS: more than one worker needs Postgres (SQLite takes one writer at a "
        "time, and workers share stream tokens and live call events through Postgres) -> "
        "set DATABASE_URL to a Postgres database, or run one worker\n"
    )
    assert not (tmp_path / "data").exists()


def test_a_worker_count_below_one_is_a_usage_error(tmp_path: Path) -> None:
    result = frontdesk(tmp_path, "serve", "--workers", "0")
    assert result.returncode == 2
    assert "--workers: must be 1 or more, not 0" in result.stderr
