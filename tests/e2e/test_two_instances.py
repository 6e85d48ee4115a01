"""Two server processes' worth of state on one Postgres: any instance serves any webhook
or API request, and racing bookings through both still produce exactly one."""

from __future__ import annotations

import asyncio
import json

import pytest
from tests.e2e.phone_fixtures import TWILIO_TOKEN, phone_line
from tests.support.deepgram_emulator import CallFunction, Say, WaitForClose
from tests.support.twilio_simulator import SimulatedCall, new_call


@pytest.fixture
def engine_name() -> str:
    return "postgres"


async def test_a_call_admitted_by_one_instance_streams_through_the_other(
    database_url: str,
) -> None:
    script = [Say("Hi"), CallFunction("end_call"), Say("Bye"), WaitForClose()]
    async with phone_line(database_url) as first, phone_line(database_url, script) as second:
        call, reply = await first.ring(new_call(from_number="+14155550123"))
        assert reply.stream_url is not None
        stream_on_second = reply.stream_url.replace(
            first.base_url.replace("http://", "ws://"), second.base_url.replace("http://", "ws://")
        )
        sim = SimulatedCall(
            stream_on_second,
            auth_token=TWILIO_TOKEN,
            custom_parameters=dict(reply.stream_parameters),
            call=call,
        )
        await sim.connect()
        await asyncio.wait_for(sim.wait_closed(), 10)
        sim.assert_no_violations()
        assert (await first.after_stream(call)).verbs[-1] == "Hangup"
        record = await first.call_record(call.call_sid)
        assert record["call"]["end_reason"] == "agent_ended"
        assert len(second.emulator.sessions) == 1
        assert first.emulator.sessions == []


async def test_bookings_racing_through_two_instances_make_exactly_one(database_url: str) -> None:
    async with phone_line(database_url) as first, phone_line(database_url) as second:
        slots = await first.api.get("/api/v1/slots", params={"service": "cleaning"})
        slot = slots.json()["items"][0]

        async def book(i: int) -> int:
            line = first if i % 2 else second
            body = {
                "slot_id": slot["id"],
                "service": "cleaning",
                "patient_name": f"Patient {i}",
                "patient_phone": f"+1415555{i:04d}",
            }
            response = await line.api.post(
                "/api/v1/appointments",
                content=json.dumps(body),
                headers={"Content-Type": "application/json"},
            )
            return response.status_code

        statuses = await asyncio.gather(*(book(i) for i in range(20)))
        assert sorted(statuses) == [201] + [409] * 19
        listed = await second.api.get("/api/v1/appointments", params={"status": "booked"})
        assert listed.json()["total"] == 1
