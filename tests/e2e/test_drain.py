"""SIGTERM on a real `frontdesk serve` process: no new calls, live calls go on up to
DRAIN_TIMEOUT_S and are then ended, and the process exits 0."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from tests.e2e.phone_fixtures import DEEPGRAM_KEY
from tests.e2e.server_process import (
    SAMPLE_FRONT_DESK,
    ServerProcess,
    ended_record,
    server_process,
)
from tests.support.deepgram_emulator import (
    CallFunction,
    DeepgramEmulator,
    ExpectAudio,
    Say,
    Script,
    WaitForClose,
)
from tests.support.twilio_simulator import new_call


@pytest.fixture
def engine_name() -> str:
    return "postgres"


@asynccontextmanager
async def served(
    database_url: str, script: Script, drain_timeout_s: float, log_dir: Path
) -> AsyncIterator[ServerProcess]:
    async with (
        DeepgramEmulator(api_key=DEEPGRAM_KEY, script=script) as emulator,
        server_process(
            database_url,
            emulator,
            log_dir / "server.log",
            DRAIN_TIMEOUT_S=str(drain_timeout_s),
        ) as server,
    ):
        yield server


async def draining(api: httpx.AsyncClient) -> dict[str, str]:
    """The readiness checks once the server reports it is draining (bounded poll)."""
    async with asyncio.timeout(10):
        while True:
            ready = await api.get("/readyz")
            checks: dict[str, str] = ready.json()["checks"]
            if checks["admitting_calls"] == "draining":
                assert ready.status_code == 503
                return checks
            await asyncio.sleep(0.025)  # polling another process's state


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
    async with served(database_url, script, drain_timeout_s=30, log_dir=tmp_path) as server:
        line, process = server.line, server.process
        live = await line.dial_in(new_call(from_number="+14155550123"))
        await live.wait_for_audio(800)

        process.send_signal(signal.SIGTERM)
        # The signal is handled on the server's loop, not at once: ring once it drains.
        # The process is draining, not gone: it answers, says it is not ready for new
        # calls, and turns them away.
        checks = await draining(line.api)
        assert checks.pop("live_events", "ok") in ("ok", "not_listening")  # not required
        assert checks == {"database": "ok", "schema": "ok", "admitting_calls": "draining"}
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
    async with served(database_url, script, drain_timeout_s=0.5, log_dir=tmp_path) as server:
        line, process = server.line, server.process
        live = await line.dial_in(new_call(from_number="+14155550123"))
        await live.wait_for_audio(800)
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(live.wait_closed(), 10)
        # The server exits once Twilio's after-stream request is answered, so the
        # record is read first: it is stored as the stream closes.
        record = await ended_record(line.api, live.call.call_sid)
        assert record["call"]["end_reason"] == "shutdown"
        # Twilio asks what follows the stream; the draining server still answers: an
        # apology and the front desk, not silence.
        next_step = await line.after_stream(live.call)
        assert next_step.dial_number == SAMPLE_FRONT_DESK
        assert "not available right now" in " ".join(next_step.says)
        assert await asyncio.wait_for(process.wait(), 15) == 0
        session = await line.emulator.session(0)
        await asyncio.wait_for(session.wait_closed(), 5)
