"""`frontdesk serve` on a Postgres database that was never migrated, or is behind: it
refuses to start with one line saying to run `frontdesk migrate`; and a running server's
`/readyz` says where the schema stands. Real Postgres, real processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from tests.e2e.test_cli_errors import clean_env, closed_port

from adapters.sql import Database
from adapters.sql.migrate import run_alembic

FIRST_REVISION = "0001_scheduling"
START_TIMEOUT_S = 30


@pytest.fixture
def engine_name() -> str:
    return "postgres"


def serve(tmp_path: Path, database_url: str, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=clean_env(tmp_path, DATABASE_URL=database_url, LOG_LEVEL="WARNING"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def refused_start(tmp_path: Path, database_url: str) -> tuple[int, str]:
    server = serve(tmp_path, database_url, closed_port())
    try:
        _, stderr = server.communicate(timeout=START_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        server.kill()
        server.communicate()
        pytest.fail("the server started on that database instead of refusing")
    return server.returncode, stderr


async def test_serve_refuses_a_database_that_was_never_migrated(
    empty_database_url: str, tmp_path: Path
) -> None:
    returncode, stderr = await asyncio.to_thread(refused_start, tmp_path, empty_database_url)
    assert returncode == 1
    assert stderr == (
        "error: DATABASE_URL: the database has no schema yet -> run `frontdesk migrate` "
        "(with the same DATABASE_URL), then start again\n"
    )


async def test_serve_refuses_a_database_behind_the_latest_migration(
    empty_database_url: str, tmp_path: Path
) -> None:
    await run_alembic(empty_database_url, "upgrade", FIRST_REVISION)
    returncode, stderr = await asyncio.to_thread(refused_start, tmp_path, empty_database_url)
    assert returncode == 1
    assert stderr.startswith("error: DATABASE_URL: the database schema is older than this code")
    assert "run `frontdesk migrate`" in stderr


async def readiness(base_url: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        async with asyncio.timeout(START_TIMEOUT_S):
            while True:
                try:
                    return await client.get("/readyz")
                except httpx.TransportError:
                    await asyncio.sleep(0.1)  # polling a starting process


async def test_readiness_reports_the_schema_missing_behind_or_ok(
    empty_database_url: str, tmp_path: Path
) -> None:
    await run_alembic(empty_database_url, "upgrade", "head")
    port = closed_port()
    server = serve(tmp_path, empty_database_url, port)
    base_url = f"http://127.0.0.1:{port}"
    try:
        ready = await readiness(base_url)
        assert (ready.status_code, ready.json()["checks"]["schema"]) == (200, "ok")

        await run_alembic(empty_database_url, "downgrade", FIRST_REVISION)
        behind = await readiness(base_url)
        assert (behind.status_code, behind.json()["checks"]["schema"]) == (503, "behind")

        await run_alembic(empty_database_url, "downgrade", "base")
        missing = await readiness(base_url)
        assert (missing.status_code, missing.json()["checks"]["schema"]) == (503, "missing")
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=15)
    assert server.returncode == 0, stderr


async def test_a_migration_that_fails_is_one_line_pointing_at_debug(
    empty_database_url: str, tmp_path: Path
) -> None:
    database = Database.from_url(empty_database_url)
    try:  # a database some other program already uses
        async with database.engine.begin() as connection:
            await connection.execute(text("CREATE TABLE appointments (id integer)"))
    finally:
        await database.dispose()
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "entrypoints.cli", "migrate"],
        cwd=tmp_path,
        env=clean_env(tmp_path, DATABASE_URL=empty_database_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    error = result.stderr.splitlines()[-1]
    assert error.startswith("error: ProgrammingError: ")
    assert 'relation "appointments" already exists' in error
    assert error.endswith("(run with --debug for the traceback)")
    assert "Traceback" not in result.stderr
