"""The `frontdesk` command as an operator runs it: a real process, a real port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

FRONTDESK = [sys.executable, "-m", "entrypoints.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_without_database(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PRACTICE_FILE"}}
    env.update({"FRONTDESK_DATA_DIR": str(tmp_path / "data"), **extra})
    return env


def test_serve_on_the_embedded_default_migrates_itself_and_answers(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [*FRONTDESK, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env_without_database(tmp_path, FRONTDESK_API_KEYS="k"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        ready = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)  # polling a starting process, not synchronising tests
        assert ready is not None, server.stdout.read().decode() if server.stdout else ""
        assert "server" not in ready.headers  # uvicorn does not announce itself
        assert ready.headers["date"]
        assert ready.json() == {
            "status": "ready",
            "checks": {"database": "ok", "schema": "ok", "admitting_calls": "ok"},
        }
        practice = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/practice", headers={"Authorization": "Bearer k"}
        )
        assert practice.json()["name"] == "Bright Smile Dental"
        assert (tmp_path / "data" / "frontdesk.sqlite3").exists()
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) == 0  # drained: nothing was live
    output = server.stdout.read().decode() if server.stdout else ""
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]  # not a tty: JSON
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert any("/readyz" in line["event"] for line in access), output  # logged after start-up
    # One worker on SQLite whatever the cores, and the log says why.
    assert any(line["event"].startswith("one worker: SQLite takes one writer") for line in lines)


def test_a_broken_practice_file_stops_the_server_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "practice.toml"
    bad.write_text('[practice]\nname = "x"\ntime_zone = "Nowhere/Atlantis"\n')
    result = subprocess.run(
        [*FRONTDESK, "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=env_without_database(tmp_path, PRACTICE_FILE=str(bad)),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "practice.time_zone: Value error, unknown time zone 'Nowhere/Atlantis'" in result.stderr
    assert not (tmp_path / "data").exists()


def test_check_practice_summarises_the_sample(tmp_path: Path) -> None:
    result = subprocess.run(
        [*FRONTDESK, "check-practice"],
        cwd=tmp_path,
        env=env_without_database(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "Bright Smile Dental: 3 providers, 3 services" in result.stdout
