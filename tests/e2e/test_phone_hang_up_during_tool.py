"""The caller hangs up while the agent's booking is still in the database, end to end.

The test holds a lock on the appointments table from its own connection, so the
booking the agent asked for provably waits in Postgres; then the caller hangs up
(Twilio's `stop`, then the socket closes). Whatever happens, the booking is either
wholly there (recorded in the call, told to the model) or wholly absent, the call
record is finalised as a hang-up, the Deepgram socket is closed, and the server
carries no call and holds no transaction afterwards.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import text
from tests.e2e.phone_fixtures import PhoneLine, phone_line
from tests.support.deepgram_emulator import (
    CallFunction,
    EmulatedSession,
    ExpectAudio,
    Script,
    WaitForClose,
)
from tests.support.pg_probe import (
    BUSY_ELSEWHERE,
    WAITING_ON_A_LOCK,
    admin,
    count,
    positive,
    until,
    zero,
)
from tests.support.twilio_simulator import SimulatedCall, new_call

CALLER = "+14155550123"
GREETING_BYTES = 1600
TOOL_DRAIN_S = 3.0
"""`SessionLimits.tool_drain_timeout_s`: how long a hang-up lets a running tool finish."""


@pytest.fixture
def engine_name() -> str:
    return "postgres"


async def a_booking_the_caller_hangs_up_on(
    line: PhoneLine, database_url: str, *, release_lock_before_the_drain_ends: bool
) -> tuple[SimulatedCall, EmulatedSession]:
    """Dial in, lock the appointments table, let the agent book, hang up mid-booking."""
    sim = await line.dial_in(new_call(from_number=CALLER))
    await sim.wait_for_audio(GREETING_BYTES)
    async with admin(database_url) as lock, admin(database_url) as probe:
        await lock.execute(text("LOCK TABLE appointments IN EXCLUSIVE MODE"))
        await sim.send_audio(bytes(GREETING_BYTES))  # the script goes on to book
        await until(lambda: positive(count(probe, WAITING_ON_A_LOCK)))
        await sim.send_stop()  # the caller hangs up; the booking still waits
        session = await line.emulator.session(0)
        if not release_lock_before_the_drain_ends:
            await session.wait_closed(timeout_s=TOOL_DRAIN_S + 10)
        await lock.rollback()  # the lock goes
        await until(lambda: zero(count(probe, BUSY_ELSEWHERE)))
    await session.wait_closed(timeout_s=10)
    return sim, session


def booking_script(slot: dict[str, Any]) -> Script:
    arguments = {"slot_id": slot["id"], "service": "cleaning", "patient_name": "Ada Lovelace"}
    return [
        ExpectAudio(GREETING_BYTES),  # the test locks the table before the caller speaks
        CallFunction("book_appointment", json.dumps(arguments), timeout_s=30),
        WaitForClose(),
    ]


async def first_slot(database_url: str) -> dict[str, Any]:
    async with phone_line(database_url) as probe:
        slots = await probe.api.get("/api/v1/slots", params={"service": "cleaning"})
        slot: dict[str, Any] = slots.json()["items"][0]
        return slot


async def test_a_booking_that_finishes_within_the_drain_after_a_hang_up_is_kept_and_recorded(
    database_url: str,
) -> None:
    slot = await first_slot(database_url)
    async with phone_line(database_url, booking_script(slot)) as line:
        sim, session = await a_booking_the_caller_hangs_up_on(
            line, database_url, release_lock_before_the_drain_ends=True
        )
        await assert_call_over(line, sim)
        found = await line.api.get("/api/v1/appointments", params={"phone": CALLER})
        assert [(a["slot_id"], a["call_sid"]) for a in found.json()["items"]] == [
            (slot["id"], sim.call.call_sid)
        ]
        record = await line.call_record(sim.call.call_sid)
        assert [(t["name"], t["outcome"]) for t in record["tool_invocations"]] == [
            ("book_appointment", "ok")
        ]
        (response,) = session.function_responses  # the model was told, before the close
        assert json.loads(response.content)["ok"] is True


async def test_a_booking_still_blocked_when_the_drain_ends_is_rolled_back_and_not_recorded(
    database_url: str,
) -> None:
    slot = await first_slot(database_url)
    async with phone_line(database_url, booking_script(slot)) as line:
        sim, session = await a_booking_the_caller_hangs_up_on(
            line, database_url, release_lock_before_the_drain_ends=False
        )
        await assert_call_over(line, sim)
        found = await line.api.get("/api/v1/appointments", params={"phone": CALLER})
        assert found.json()["items"] == []
        slots = await line.api.get("/api/v1/slots", params={"service": "cleaning"})
        assert slot["id"] in [s["id"] for s in slots.json()["items"]], "the slot is open"
        record = await line.call_record(sim.call.call_sid)
        assert record["tool_invocations"] == []
        assert session.function_responses == []


async def assert_call_over(line: PhoneLine, sim: SimulatedCall) -> None:
    """The record is finalised as a hang-up and the server carries no call any more."""
    await until(lambda: _active_calls_are(line, 0))  # the session, record saved, is over
    record = await line.call_record(sim.call.call_sid)
    assert record["call"]["end_reason"] == "caller_hung_up"
    assert record["call"]["ended_at"] is not None


async def _active_calls_are(line: PhoneLine, expected: int) -> bool:
    metrics = (await line.api.get("/metrics")).text
    match = re.search(r"^frontdesk_active_calls (\S+)$", metrics, re.MULTILINE)
    assert match, "frontdesk_active_calls is not in /metrics"
    return float(match.group(1)) == expected
