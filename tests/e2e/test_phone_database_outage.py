"""The database goes away in the middle of a call, and comes back, under a running server.

The server reaches Postgres through a TCP proxy that the test cuts (refusing new
connections and dropping open ones, as a crashed database would) and restores. While
it is cut the agent's tools answer that the scheduling system is unavailable, the call
goes on, `/readyz` says not ready and a new caller is put through to a person; once
it is back the same server, never restarted, is ready again, books, and stores the
record of the call that ended during the outage.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from tests.e2e.phone_fixtures import FRONT_DESK, PhoneLine, phone_line
from tests.support.deepgram_emulator import (
    CallFunction,
    ExpectAudio,
    Say,
    Script,
    UserSays,
    WaitForClose,
)
from tests.support.tcp_proxy import TcpProxy
from tests.support.twilio_simulator import new_call

CALLER, NEXT_CALLER = "+14155550123", "+14155550124"
GREETING_BYTES = 1600
APOLOGY_BYTES = 2400
RECOVERY_TIMEOUT_S = 20.0
"""Generous: the record's retries pause up to 5 s between attempts."""


@pytest.fixture
def engine_name() -> str:
    return "postgres"


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


def through(proxy: TcpProxy, database_url: str) -> str:
    url = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    return url.render_as_string(hide_password=False)


def outage_call(slot: dict[str, Any]) -> Script:
    """The caller asks for a slot and a booking; both fail; the agent offers a person."""
    return [
        ExpectAudio(GREETING_BYTES),  # the test cuts the database before speaking
        UserSays("A cleaning on Monday, please."),
        CallFunction("check_available_slots", json.dumps({"service": "cleaning"})),
        CallFunction("book_appointment", booking_arguments(slot, "Ada Lovelace")),
        Say("Sorry, our booking system is down. Shall I put you through?", APOLOGY_BYTES),
        ExpectAudio(GREETING_BYTES + 1600),
        UserSays("Yes, please."),
        CallFunction("transfer_to_human"),
        Say("Transferring you now."),
        WaitForClose(),
    ]


def booking_call(slot: dict[str, Any]) -> Script:
    return [
        CallFunction("book_appointment", booking_arguments(slot, "Grace Hopper")),
        CallFunction("end_call"),
        Say("Goodbye!"),
        WaitForClose(),
    ]


def booking_arguments(slot: dict[str, Any], name: str) -> str:
    return json.dumps({"slot_id": slot["id"], "service": "cleaning", "patient_name": name})


async def until(probe: Callable[[], Awaitable[bool]], timeout_s: float) -> None:
    """Poll `probe` (an HTTP round trip) until it holds; bounded."""
    async with asyncio.timeout(timeout_s):
        while True:
            if await probe():
                return
            await asyncio.sleep(0.1)  # polling the server, which retries on its own clock


async def record_of(line: PhoneLine, call_sid: str) -> httpx.Response:
    return await line.api.get(f"/api/v1/calls/{call_sid}")


async def test_a_database_outage_mid_call_degrades_the_call_and_the_server_recovers_unrestarted(
    database_url: str, proxy: TcpProxy
) -> None:
    async with phone_line(database_url) as probe:
        slot = (await probe.api.get("/api/v1/slots", params={"service": "cleaning"})).json()
        slot = slot["items"][0]
    scripts = [outage_call(slot), booking_call(slot)]
    async with phone_line(through(proxy, database_url), lambda i: scripts[i]) as line:
        call = new_call(from_number=CALLER)
        sim = await line.dial_in(call)
        await sim.wait_for_audio(GREETING_BYTES)

        await proxy.stop()
        await sim.send_audio(bytes(GREETING_BYTES))
        session = await line.emulator.session(0)
        await session.wait_until(lambda: len(session.function_responses) == 2, timeout_s=15)
        for response in session.function_responses:
            result = json.loads(response.content)
            assert (result["ok"], result["error"]) == (False, "storage_unavailable")
            assert "unavailable" in result["message"]
            assert "transfer" in result["next"].lower()
        await sim.wait_for_audio(GREETING_BYTES + APOLOGY_BYTES)  # the call goes on

        ready = await line.api.get("/readyz")
        assert (ready.status_code, ready.json()["checks"]["database"]) == (503, "unreachable")
        _, turned_away = await line.ring(new_call(from_number=NEXT_CALLER))
        assert turned_away.stream_url is None
        assert turned_away.dial_number == FRONT_DESK
        assert turned_away.says, "the caller hears an apology first"

        await sim.send_audio(bytes(1600))  # "yes, please": the agent transfers
        await sim.wait_closed(timeout_s=15)
        assert (await line.after_stream(call)).dial_number == FRONT_DESK
        assert (await record_of(line, call.call_sid)).status_code == 503

        await proxy.start()
        await until(lambda: _is(line.api.get("/readyz"), 200), timeout_s=RECOVERY_TIMEOUT_S)
        await until(lambda: _ended(line, call.call_sid), timeout_s=RECOVERY_TIMEOUT_S)
        stored = (await record_of(line, call.call_sid)).json()
        assert stored["call"]["end_reason"] == "transferred"
        assert [(t["name"], t["outcome"]) for t in stored["tool_invocations"]] == [
            ("check_available_slots", "storage_unavailable"),
            ("book_appointment", "storage_unavailable"),
            ("transfer_to_human", "ok"),
        ]
        assert ("caller", "Yes, please.") in [(t["speaker"], t["text"]) for t in stored["turns"]]

        booker = await line.dial_in(new_call(from_number=NEXT_CALLER))
        await booker.wait_closed(timeout_s=15)
        booked = json.loads((await line.emulator.session(1)).function_responses[0].content)
        assert booked["ok"] is True, booked
        found = await line.api.get("/api/v1/appointments", params={"phone": NEXT_CALLER})
        assert [(a["slot_id"], a["patient_name"]) for a in found.json()["items"]] == [
            (slot["id"], "Grace Hopper")
        ]


async def _is(request: Awaitable[httpx.Response], status: int) -> bool:
    return (await request).status_code == status


async def _ended(line: PhoneLine, call_sid: str) -> bool:
    response = await record_of(line, call_sid)
    return response.status_code == 200 and response.json()["call"]["ended_at"] is not None
