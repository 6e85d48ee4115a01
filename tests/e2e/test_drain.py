"""SIGTERM on a real `frontdesk serve` process: no new calls, live calls go on up to
DRAIN_TIMEOUT_S and are then ended, and the process exits 0."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from tests.e2e.phone_fixtures import DEEPGRAM_KEY, TWILIO_TOKEN, PhoneLine
from tests.support.deepgram_emulator import (
    CallFunction,
    DeepgramEmulator,
    ExpectAudio,
    Say,
    Script,
    WaitForClose,
)
from tests.support.twilio_simulator import new_call

SAMPLE_FRONT_DESK = "+12125550142"


@pytest.fixture
def engine_name() -> str:
    return "postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def served(
    database_url: str, script: Script, drain_timeout_s: float, log_dir: Path
) -> AsyncIterator[tuple[PhoneLine, asyncio.subprocess.Process]]:
    async with DeepgramEmulator(api_key=DEEPGRAM_KEY, script=script) as emulator:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PUBLIC_URL": base_url,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "DEEPGRAM_API_KEY": DEEPGRAM_KEY,
            "DEEPGRAM_AGENT_URL": emulator.url,
            "DRAIN_TIMEOUT_S": str(drain_timeout_s),
            "FRONTDESK_API_KEYS": "k",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("PRACTICE_FILE", None)
        log_path = log_dir / "server.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "entrypoints.cli",
                "serve",
                "--port",
                str(port),
                env=env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        try:
            async with httpx.AsyncClient(base_url=base_url, timeout=10) as api:
                for _ in range(400):  # bounded wait for the process to listen
                    assert process.returncode is None, log_path.read_text()
                    try:
                        await api.get("/healthz")
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)  # polling a starting process
                yield PhoneLine(base_url, emulator, api), process
        finally:
            if process.returncode is None:
                process.kill()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), 10)
            print(log_path.read_text())


async def wait_for_log(path: Path, text: str, timeout_s: float = 10) -> None:
    """Poll the server's log (bounded) until `text` appears in it: another process
    writes the file, so there is nothing to wait on but the file itself."""
    async with asyncio.timeout(timeout_s):
        while text not in await asyncio.to_thread(path.read_text, errors="replace"):  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_sigterm_refuses_new_calls_and_lets_a_live_call_finish(
    database_url: str, tmp_path: Path
) -> None:
    script: Script = [
        Say("Hello", audio_bytes=800),
        ExpectAudio(3200),
        CallFunction("end_call"),
        Say("Goodbye", audio_bytes=800),
        WaitForClose(),
    ]
    async with served(database_url, script, drain_timeout_s=30, log_dir=tmp_path) as (
        line,
        process,
    ):
        live = await line.dial_in(new_call(from_number="+14155550123"))
        await live.wait_for_audio(800)

        process.send_signal(signal.SIGTERM)
        # The signal is handled asynchronously: a webhook sent before the server has
        # seen it is rightly still admitted, so ring only once it says it is draining.
        await wait_for_log(tmp_path / "server.log", "draining:")
        # The process is draining, not gone: it answers, and turns new calls away.
        _, refused = await line.ring(new_call(from_number="+14155550124"))
        assert refused.stream_url is None
        assert refused.dial_number == SAMPLE_FRONT_DESK

        await live.send_audio(bytes(3200))  # the live call goes on to its goodbye
        await asyncio.wait_for(live.wait_closed(), 10)
        assert (await line.after_stream(live.call)).verbs[-1] == "Hangup"
        assert await asyncio.wait_for(process.wait(), 15) == 0


async def test_calls_still_live_at_the_drain_timeout_are_ended_and_the_process_exits_0(
    database_url: str, tmp_path: Path
) -> None:
    script: Script = [Say("Hello", audio_bytes=800), WaitForClose()]
    async with served(database_url, script, drain_timeout_s=0.5, log_dir=tmp_path) as (
        line,
        process,
    ):
        live = await line.dial_in(new_call(from_number="+14155550123"))
        await live.wait_for_audio(800)
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(live.wait_closed(), 10)
        assert await asyncio.wait_for(process.wait(), 15) == 0
        session = await line.emulator.session(0)
        await asyncio.wait_for(session.wait_closed(), 5)
