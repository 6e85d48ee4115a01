"""Over capacity, a caller hears a polite busy message and is put through to the front
desk; never a stream that breaks mid-sentence."""

from __future__ import annotations

import asyncio

import pytest
from tests.e2e.phone_fixtures import FRONT_DESK, phone_line
from tests.support.deepgram_emulator import CallFunction, ExpectAudio, Say, WaitForClose
from tests.support.twilio_simulator import new_call


@pytest.fixture
def engine_name() -> str:
    return "postgres"


async def test_a_call_over_the_limit_hears_busy_and_goes_to_the_front_desk(
    database_url: str,
) -> None:
    script = [
        Say("Hi", audio_bytes=800),
        ExpectAudio(1600),
        CallFunction("end_call"),
        Say("Bye", audio_bytes=800),
        WaitForClose(),
    ]
    async with phone_line(database_url, script, max_concurrent_calls=1) as line:
        first = await line.dial_in(new_call(from_number="+14155550123"))
        await first.wait_for_audio(800)

        turned_away = new_call(from_number="+14155550124")
        _, busy = await line.ring(turned_away)
        assert busy.stream_url is None
        assert busy.dial_number == FRONT_DESK
        assert any("busy" in said for said in busy.says)

        await first.send_audio(bytes(1600))
        await asyncio.wait_for(first.wait_closed(), 10)
        _, admitted = await line.ring(new_call(from_number="+14155550125"))
        assert admitted.stream_url is not None
        metrics = (await line.api.get("/metrics")).text
        assert 'frontdesk_calls_turned_away_total{reason="at_capacity"} 1.0' in metrics

        listed = await line.api.get("/api/v1/calls", params={"from_number": "+14155550124"})
        (record,) = listed.json()["items"]
        assert record["carrier_call_id"] == turned_away.call_sid
        assert (record["status"], record["end_reason"]) == ("ended", "at_capacity")
        assert record["next_step"] == "transfer"
