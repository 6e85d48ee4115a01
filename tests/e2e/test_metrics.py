"""`/metrics` after a real call: calls by outcome, tools by name and outcome, frames,
barge-ins, the agent's latency, and the process's own figures."""

from __future__ import annotations

import asyncio
import json

import pytest
from tests.e2e.phone_fixtures import phone_line
from tests.support.deepgram_emulator import (
    CallFunction,
    ExpectAudio,
    Say,
    UserSays,
    WaitForClose,
)
from tests.support.metrics_text import sample
from tests.support.twilio_simulator import new_call


@pytest.fixture
def engine_name() -> str:
    return "postgres"


async def test_a_finished_call_shows_in_the_metrics(database_url: str) -> None:
    script = [
        Say("Hello! How can I help?", audio_bytes=1600),
        ExpectAudio(1600),
        UserSays("Any checkups tomorrow?"),
        CallFunction("check_available_slots", json.dumps({"service": "checkup"})),
        CallFunction("not_a_tool", "{}"),
        CallFunction("end_call"),
        Say("Goodbye!", audio_bytes=800),
        WaitForClose(),
    ]
    async with phone_line(database_url, script) as line:
        before = (await line.api.get("/metrics")).text
        assert sample(before, "frontdesk_active_calls") == 0
        sim = await line.dial_in(new_call(from_number="+14155550123"))
        await sim.send_audio(bytes(1600))
        await asyncio.wait_for(sim.wait_closed(), 15)
        after = await line.api.get("/metrics")

    assert after.status_code == 200
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    assert sample(text, "frontdesk_calls_total", outcome="agent_ended") == 1
    assert (
        sample(text, "frontdesk_tool_calls_total", tool="check_available_slots", outcome="ok") == 1
    )
    assert (
        sample(text, "frontdesk_tool_calls_total", tool="not_a_tool", outcome="unknown_tool") == 1
    )
    assert sample(text, "frontdesk_tool_calls_total", tool="end_call", outcome="ok") == 1
    assert sample(text, "frontdesk_tool_latency_seconds_count", tool="check_available_slots") == 1
    assert sample(text, "frontdesk_audio_frames_total", direction="in") >= 10
    assert sample(text, "frontdesk_audio_frames_total", direction="out") >= 1
    assert sample(text, "frontdesk_active_calls") == 0
    assert sample(text, "frontdesk_asyncio_tasks") > 0
    assert sample(text, "process_resident_memory_bytes") > 0
