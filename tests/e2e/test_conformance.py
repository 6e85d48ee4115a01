"""The conformance suite: the same call scenarios against every telephony adapter.

Each test runs once per carrier in `tests.e2e.carriers.CARRIERS`, against a real
server on a real port, the carrier played by its strict simulator and the voice agent
by the Deepgram emulator. A new carrier passes when every scenario here passes for it;
a failure names the scenario (and so the behaviour) its adapter is missing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text
from tests.e2e.carriers import CARRIERS, Carrier, Reply, Stream
from tests.e2e.phone_fixtures import FRONT_DESK, PhoneLine, phone_line
from tests.support.api_server import API_KEY
from tests.support.deepgram_emulator import (
    CallFunction,
    Drop,
    ExpectAudio,
    Say,
    Script,
    UserSays,
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
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from entrypoints.dev_client.feed import events_url

CALLER = "+14155550123"
API_AUTH = {"Authorization": f"Bearer {API_KEY}"}
GREETING_BYTES = 1600
"""The emulator speaks the greeting as 1600 bytes of µ-law silence."""
GREETING = b"\xff" * GREETING_BYTES


@pytest.fixture
def engine_name() -> str:
    return "postgres"


@pytest.fixture(params=sorted(CARRIERS))
def carrier(request: pytest.FixtureRequest) -> Carrier:
    return CARRIERS[request.param]


@dataclass
class Line:
    """A phone line reached through one carrier."""

    phone: PhoneLine
    carrier: Carrier

    async def ring(self, call: Any) -> Reply:
        response = await self.carrier.ring(self.phone.api, self.phone.base_url, call)
        assert response.status_code == 200, response.text
        return self.carrier.parse(response.text)

    async def dial_in(self) -> tuple[Any, Stream]:
        call = self.carrier.new_call(CALLER)
        stream = self.carrier.stream(call, await self.ring(call))
        await stream.connect()
        return call, stream

    async def after_stream(self, call: Any) -> Reply:
        return await self.carrier.after_stream(self.phone.api, self.phone.base_url, call)

    async def completed(self, call: Any) -> None:
        await self.carrier.completed(self.phone.api, self.phone.base_url, call)

    async def record(self, call: Any) -> dict[str, Any]:
        listed = await self.phone.api.get("/api/v1/calls")
        assert listed.status_code == 200, listed.text
        (found,) = [
            c
            for c in listed.json()["items"]
            if c["carrier_call_id"] == self.carrier.reference(call)
        ]
        assert found["carrier"] == self.carrier.name
        detail = await self.phone.api.get(f"/api/v1/calls/{found['id']}")
        assert detail.status_code == 200, detail.text
        body: dict[str, Any] = detail.json()
        return body

    async def ended_record(self, call: Any) -> dict[str, Any]:
        """The call's record once the server has stored its end: its events feed sends
        `ended` only after that (a caller that hung up does not wait for the server)."""
        call_id = (await self.record(call))["call"]["id"]
        url = events_url(self.phone.base_url, call_id)
        async with connect(url, additional_headers=API_AUTH, open_timeout=10) as feed:
            async with asyncio.timeout(10):
                while json.loads(await feed.recv())["type"] != "ended":
                    continue
        return await self.record(call)


@asynccontextmanager
async def line_for(
    carrier: Carrier, database_url: str, script: Script | Any = ()
) -> AsyncIterator[Line]:
    async with phone_line(database_url, script, **carrier.settings) as phone:
        await carrier.prepare(database_url)
        yield Line(phone, carrier)


async def test_the_greeting_is_heard_intact_and_the_call_is_recorded_as_the_carriers(
    carrier: Carrier, database_url: str
) -> None:
    async with line_for(carrier, database_url, [WaitForClose()]) as line:
        call, stream = await line.dial_in()
        await stream.wait_for_audio(GREETING_BYTES)
        assert bytes(stream.audio[:GREETING_BYTES]) == GREETING
        await stream.send_stop()
        await stream.wait_closed()
        stream.assert_no_violations()
        await line.completed(call)
        record = await line.record(call)
        assert record["call"]["end_reason"] == "caller_hung_up"
        assert record["call"]["carrier_status"] == "completed"


async def test_a_booking_by_voice_shows_in_the_rest_api(
    carrier: Carrier, database_url: str
) -> None:
    async with phone_line(database_url, **carrier.settings) as probe:
        slots = await probe.api.get("/api/v1/slots", params={"service": "cleaning"})
        slot = slots.json()["items"][0]
    booking = {
        "slot_id": slot["id"],
        "service": "cleaning",
        "patient_name": "Ada Lovelace",
        "patient_phone": CALLER,  # a browser caller has no number of its own
    }
    script: Script = [
        UserSays("I'd like a cleaning, please."),
        CallFunction("book_appointment", json.dumps(booking)),
        Say("You're booked."),
        CallFunction("end_call"),
        Say("Goodbye!"),
        WaitForClose(),
    ]
    async with line_for(carrier, database_url, script) as line:
        call, stream = await line.dial_in()
        await stream.wait_closed()
        stream.assert_no_violations()
        assert (await line.after_stream(call)).verbs == ("Hangup",)
        found = await line.phone.api.get("/api/v1/appointments", params={"phone": CALLER})
        (appointment,) = found.json()["items"]
        assert (appointment["slot_id"], appointment["channel"]) == (slot["id"], "phone")
        record = await line.record(call)
        assert appointment["call_id"] == record["call"]["id"]
        assert ("caller", "I'd like a cleaning, please.") in [
            (t["speaker"], t["text"]) for t in record["turns"]
        ]


async def test_barge_in_drops_the_queued_audio_before_the_next_utterance(
    carrier: Carrier, database_url: str
) -> None:
    long_fill, next_fill = 0x11, 0x22
    script: Script = [
        Say("Let me tell you all about our opening hours.", audio_bytes=16000, fill=long_fill),
        UserSays("Sorry, one question."),
        Say("Go ahead.", audio_bytes=1600, fill=next_fill),
        WaitForClose(),
    ]
    async with line_for(carrier, database_url, script) as line:
        call, stream = await line.dial_in()
        await stream.wait_for_audio(GREETING_BYTES + 16000 + 1600)
        events = [r.event for r in stream.received]
        assert events.count(carrier.interrupt_event) == 1
        after_clear = stream.audio[-1600:]
        assert set(after_clear) == {next_fill}
        assert stream.cleared_audio_bytes > 0
        await stream.send_stop(then_close=False)
        await stream.wait_closed()
        stream.assert_no_violations()
        turns = {t["text"]: t["interrupted"] for t in (await line.record(call))["turns"]}
        assert turns["Let me tell you all about our opening hours."] is True


async def test_the_call_ends_only_after_the_goodbye_has_played(
    carrier: Carrier, database_url: str
) -> None:
    script: Script = [
        CallFunction("end_call"),
        Say("Goodbye!", audio_bytes=4000, fill=0x33),
        WaitForClose(),
    ]
    async with line_for(carrier, database_url, script) as line:
        call, stream = await line.dial_in()
        await stream.wait_closed()
        assert stream.audio.endswith(bytes([0x33]) * 4000)
        goodbye_mark = stream.marks_received[-1]
        assert goodbye_mark in [name for name, _ in stream.marks_echoed]  # it played out
        stream.assert_no_violations()
        assert (await line.after_stream(call)).verbs == ("Hangup",)
        assert (await line.record(call))["call"]["end_reason"] == "agent_ended"


async def test_a_transfer_puts_the_caller_through_to_the_front_desk(
    carrier: Carrier, database_url: str
) -> None:
    script: Script = [
        CallFunction("transfer_to_human", json.dumps({"reason": "wants a person"})),
        Say("Transferring you now."),
        WaitForClose(),
    ]
    async with line_for(carrier, database_url, script) as line:
        call, stream = await line.dial_in()
        await stream.wait_closed()
        reply = await line.after_stream(call)
        assert "Connect" not in reply.verbs
        assert reply.dial_number == FRONT_DESK
        assert (await line.record(call))["call"]["end_reason"] == "transferred"


async def test_keypad_digits_are_taken_without_disturbing_the_call(
    carrier: Carrier, database_url: str
) -> None:
    script: Script = [ExpectAudio(320), Say("Thanks.", fill=0x44), WaitForClose()]
    async with line_for(carrier, database_url, script) as line:
        call, stream = await line.dial_in()
        await stream.wait_for_audio(GREETING_BYTES)
        await stream.send_dtmf("5")
        await stream.send_audio(b"\x7f" * 320)
        await stream.wait_for_audio(GREETING_BYTES + 1600)
        assert bytes([0x44]) * 1600 in stream.audio
        await stream.send_stop(then_close=False)
        await stream.wait_closed()  # the server closes it once the record is saved
        stream.assert_no_violations()
        assert (await line.ended_record(call))["call"]["end_reason"] == "caller_hung_up"


async def test_a_forged_webhook_is_refused_and_opens_nothing(
    carrier: Carrier, database_url: str
) -> None:
    async with line_for(carrier, database_url, [WaitForClose()]) as line:
        call = carrier.new_call(CALLER)
        response = await carrier.ring_forged(line.phone.api, line.phone.base_url, call)
        assert response.status_code == 403
        listed = await line.phone.api.get("/api/v1/calls")
        assert listed.json()["items"] == []
        assert line.phone.emulator.sessions == []


async def test_a_forged_missing_wrong_or_reused_stream_token_is_refused(
    carrier: Carrier, database_url: str
) -> None:
    async with line_for(carrier, database_url, [WaitForClose()]) as line:
        call = carrier.new_call(CALLER)
        reply = await line.ring(call)

        forged = carrier.forged_stream(call, reply)
        refused_at_handshake = False
        try:
            await forged.connect()
        except InvalidStatus:
            refused_at_handshake = True
        else:
            await forged.wait_closed()
        assert refused_at_handshake or not forged.received

        wrong = carrier.stream(call, reply, token="not-the-token")
        await wrong.connect()
        await wrong.wait_closed()
        assert not wrong.received

        genuine = carrier.stream(call, reply)
        await genuine.connect()
        await genuine.wait_for_audio(GREETING_BYTES)
        await genuine.send_stop()
        await (await line.phone.emulator.session(0)).wait_closed()

        replayed = carrier.stream(call, reply)
        await replayed.connect()
        await replayed.wait_closed()
        assert not replayed.received
        assert len(line.phone.emulator.sessions) == 1
        for stream in (forged, wrong, genuine, replayed):
            await stream.close()


async def test_the_caller_hanging_up_during_a_booking_keeps_it_whole_and_ends_the_call(
    carrier: Carrier, database_url: str
) -> None:
    """The booking provably waits in Postgres (the test holds a lock on the table) when
    the caller hangs up; released within the drain, it is kept and recorded."""
    async with phone_line(database_url, **carrier.settings) as probe:
        slots = await probe.api.get("/api/v1/slots", params={"service": "cleaning"})
        slot = slots.json()["items"][0]
    booking = {
        "slot_id": slot["id"],
        "service": "cleaning",
        "patient_name": "Ada Lovelace",
        "patient_phone": CALLER,  # a browser caller has no number of its own
    }
    script: Script = [
        ExpectAudio(GREETING_BYTES),
        CallFunction("book_appointment", json.dumps(booking), timeout_s=30),
        WaitForClose(),
    ]
    async with line_for(carrier, database_url, script) as line:
        call, stream = await line.dial_in()
        await stream.wait_for_audio(GREETING_BYTES)
        async with admin(database_url) as lock, admin(database_url) as pg:
            await lock.execute(text("LOCK TABLE appointments IN EXCLUSIVE MODE"))
            await stream.send_audio(bytes(GREETING_BYTES))  # the script goes on to book
            await until(lambda: positive(count(pg, WAITING_ON_A_LOCK)))
            await stream.send_stop(then_close=False)  # hung up; the booking still waits
            await lock.rollback()
            await until(lambda: zero(count(pg, BUSY_ELSEWHERE)))
        await stream.wait_closed()
        session = await line.phone.emulator.session(0)
        await session.wait_closed()
        await line.completed(call)
        record = await line.ended_record(call)
        assert record["call"]["end_reason"] == "caller_hung_up"
        assert [(t["name"], t["outcome"]) for t in record["tool_invocations"]] == [
            ("book_appointment", "ok")
        ]
        found = await line.phone.api.get("/api/v1/appointments", params={"phone": CALLER})
        assert [a["call_id"] for a in found.json()["items"]] == [record["call"]["id"]]


async def test_a_dropped_agent_socket_is_reopened_and_the_call_goes_on(
    carrier: Carrier, database_url: str
) -> None:
    def script(index: int) -> Script:
        if index == 0:  # waits for the caller: it may open before the stream
            return [ExpectAudio(160), Say("Hello there."), UserSays("I need a cleaning."), Drop()]
        return [Say("Sorry, we were cut off.", fill=0x66), CallFunction("end_call"), Say("Bye!")]

    async with line_for(carrier, database_url, script) as line:
        call, stream = await line.dial_in()
        await stream.send_audio(b"\x7f" * 160)
        second = await line.phone.emulator.session(1)
        await stream.wait_closed()
        assert bytes([0x66]) * 1600 in stream.audio
        assert second.settings is not None
        assert second.settings.agent.greeting is None
        stream.assert_no_violations()
        record = await line.record(call)
        assert record["call"]["end_reason"] == "agent_ended"
        assert "Sorry, we were cut off." in [t["text"] for t in record["turns"]]
