"""A real `frontdesk serve` process for end-to-end tests (`python -m entrypoints.cli
serve`), configured through the environment as an operator would, talking to a Deepgram
emulator the test owns. It runs the sample practice (no PRACTICE_FILE) on the real clock.

Its output goes to a log file, printed when the process is stopped so that a failing
test shows what the server said.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tests.e2e.phone_fixtures import DEEPGRAM_KEY, TWILIO_TOKEN, PhoneLine
from tests.support.api_server import API_KEY
from tests.support.deepgram_emulator import DeepgramEmulator

SAMPLE_FRONT_DESK = "+12125550142"
"""The sample practice's front desk line (src/entrypoints/practices/dental_office.toml)."""
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    line: PhoneLine
    """Acts as Twilio towards this process; its `api` sends the REST API key."""
    process: asyncio.subprocess.Process
    log_path: Path

    def log(self) -> str:
        return _read(self.log_path)

    async def until_healthy(self) -> None:
        """Poll `/healthz` until the starting process listens (bounded)."""
        async with asyncio.timeout(START_TIMEOUT_S):
            while True:
                assert self.process.returncode is None, self.log()
                try:
                    await self.line.api.get("/healthz")
                    return
                except httpx.TransportError:
                    await asyncio.sleep(0.05)  # polling a starting process

    async def wait_for_log(self, text: str, timeout_s: float = 10.0) -> None:
        """Poll the process's log until `text` shows in it (bounded)."""
        async with asyncio.timeout(timeout_s):
            while True:
                if text in self.log():
                    return
                await asyncio.sleep(0.02)  # polling a file another process writes


async def ended_record(api: httpx.AsyncClient, call_sid: str) -> dict[str, Any]:
    """The call's record once it is stored as ended (bounded poll)."""
    async with asyncio.timeout(10):
        while True:
            response = await api.get(f"/api/v1/calls/{call_sid}")
            record: dict[str, Any] = response.json()
            if response.status_code == 200 and record["call"]["ended_at"] is not None:
                return record
            await asyncio.sleep(0.025)  # polling another process's state


def _read(path: Path) -> str:
    return path.read_text(errors="replace")


@asynccontextmanager
async def server_process(
    database_url: str,
    emulator: DeepgramEmulator,
    log_path: Path,
    *,
    wait_until_healthy: bool = True,
    **env: str,
) -> AsyncIterator[ServerProcess]:
    """Start the process on a free port, wait until `/healthz` answers, kill it on exit.

    `env` adds or overrides environment variables (e.g. DRAIN_TIMEOUT_S="0.5"). Starting
    takes seconds (imports): to start several at once, pass `wait_until_healthy=False`
    and await their `until_healthy()` together.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PUBLIC_URL": base_url,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "DEEPGRAM_API_KEY": DEEPGRAM_KEY,
        "DEEPGRAM_AGENT_URL": emulator.url,
        "GREETING_AUDIO": "false",
        "FRONTDESK_API_KEYS": API_KEY,
        "LOG_LEVEL": "WARNING",
        "WORKERS": "1",  # one process unless a test asks for workers
        **env,
    }
    environment.pop("PRACTICE_FILE", None)
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "entrypoints.cli",
            "serve",
            "--port",
            str(port),
            env=environment,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
        ) as api:
            served = ServerProcess(PhoneLine(base_url, emulator, api), process, log_path)
            if wait_until_healthy:
                await served.until_healthy()
            yield served
    finally:
        if process.returncode is None:
            process.kill()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
        print(f"--- {log_path.name} ---\n{_read(log_path)}")
