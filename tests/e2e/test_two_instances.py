"""Two real `frontdesk serve` processes on one Postgres, behind one public name.

Both run with the same DATABASE_URL and the same PUBLIC_URL, as two instances behind a
load balancer would; the test plays the balancer too, sending each of Twilio's requests
to the process it chooses (the signatures cover the public URL, as Twilio's do). Calls
interleave (webhook on one, media stream on the other, after-stream and status back on
the first), their agents race for one slot, REST clients race for another, and every
record reads the same from either process.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.phone_fixtures import DEEPGRAM_KEY, TWILIO_TOKEN
from tests.e2e.server_process import ServerProcess, server_process
from tests.support.api_server import API_KEY
from tests.support.deepgram_emulator import (
    CallFunction,
    DeepgramEmulator,
    ExpectAudio,
    Say,
    Script,
    WaitForClose,
)
from tests.support.twilio_simulator import (
    CallIdentity,
    SimulatedCall,
    TwimlReply,
    call_params,
    new_call,
    parse_twiml,
    post_signed,
)
from websockets.asyncio.client import connect

PUBLIC = "https://frontdesk.example.com"
"""The one name Twilio and API clients know; the balancer (the test) picks the process."""
CALLERS = ("+14155550123", "+14155550124")
RACERS = 20


STARTING: dict[str, Any] = {"PUBLIC_URL": PUBLIC, "LOG_LEVEL": "INFO", "wait_until_healthy": False}


@pytest.fixture
def engine_name() -> str:
    return "postgres"


@asynccontextmanager
async def two_servers(
    database_url: str, script: Script, log_dir: Path
) -> AsyncIterator[tuple[ServerProcess, ServerProcess]]:
    async with (
        DeepgramEmulator(api_key=DEEPGRAM_KEY, script=script) as emulator,
        server_process(database_url, emulator, log_dir / "first.log", **STARTING) as a,
        server_process(database_url, emulator, log_dir / "second.log", **STARTING) as b,
    ):
        await asyncio.gather(a.until_healthy(), b.until_healthy())
        yield a, b


async def twilio_post(via: ServerProcess, path: str, params: dict[str, str]) -> httpx.Response:
    """Twilio POSTing to the public URL, routed by the balancer to `via`."""
    return await post_signed(
        via.line.api,
        f"{via.line.base_url}{path}",
        params,
        TWILIO_TOKEN,
        signed_url=f"{PUBLIC}{path}",
    )


async def ring(via: ServerProcess, call: CallIdentity) -> TwimlReply:
    response = await twilio_post(via, "/twilio/voice", call_params(call, "ringing"))
    assert response.status_code == 200, response.text
    return parse_twiml(response.text)


def stream(via: ServerProcess, call: CallIdentity, reply: TwimlReply) -> SimulatedCall:
    """The media stream `reply` asks for (a public wss URL), opened on `via`."""
    assert reply.stream_url is not None
    assert reply.stream_url.startswith("wss://frontdesk.")
    return SimulatedCall(
        reply.stream_url,
        auth_token=TWILIO_TOKEN,
        custom_parameters=dict(reply.stream_parameters),
        call=call,
        connect_url=via.line.base_url.replace("http://", "ws://") + "/twilio/media",
    )


async def a_call_across(
    webhook: ServerProcess, media: ServerProcess, caller: str
) -> tuple[CallIdentity, TwimlReply]:
    """Ring on `webhook`, stream on `media` to the end, then after-stream and the final
    status back on `webhook`; returns the after-stream TwiML."""
    call = new_call(from_number=caller)
    sim = stream(media, call, await ring(webhook, call))
    try:
        await sim.connect()
        await sim.wait_closed(timeout_s=15)
        sim.assert_no_violations()
    finally:
        await sim.close()
    after = await twilio_post(webhook, "/twilio/after-stream", call_params(call, "in-progress"))
    assert after.status_code == 200, after.text
    status = call_params(call, "completed", CallDuration="9")
    assert (await twilio_post(webhook, "/twilio/status", status)).status_code == 204
    return call, parse_twiml(after.text)


async def the_same_from_both(first: ServerProcess, second: ServerProcess, path: str) -> Any:
    one, other = await asyncio.gather(first.line.api.get(path), second.line.api.get(path))
    assert one.status_code == other.status_code == 200, (one.text, other.text)
    assert one.json() == other.json()
    return one.json()


async def rest_race(
    first: ServerProcess, second: ServerProcess, slot: dict[str, Any]
) -> list[httpx.Response]:
    """RACERS clients POST the same slot at once, alternately through either process."""

    async def book(i: int) -> httpx.Response:
        via = (first, second)[i % 2]
        body = {
            "slot_id": slot["id"],
            "service": "cleaning",
            "patient_name": f"Patient {i}",
            "patient_phone": f"+1415555{i:04d}",
        }
        return await via.line.api.post("/api/v1/appointments", json=body)

    return await asyncio.gather(*(book(i) for i in range(RACERS)))


def apart_from(slot: dict[str, Any], slots: list[dict[str, Any]]) -> dict[str, Any]:
    """The first slot of `slots` that cannot overlap `slot` (another provider or later)."""
    return next(
        s for s in slots if s["provider_id"] != slot["provider_id"] or s["start"] >= slot["end"]
    )


async def test_two_processes_serve_interleaved_calls_and_api_races_with_one_booking_a_slot(
    database_url: str, tmp_path: Path
) -> None:
    wanted: dict[str, Any] = {}

    def script(index: int) -> Script:
        arguments = {"slot_id": wanted["id"], "service": "cleaning", "patient_name": f"P{index}"}
        return [
            CallFunction("book_appointment", json.dumps(arguments)),
            CallFunction("end_call"),
            Say("Goodbye!"),
            WaitForClose(),
        ]

    async with two_servers(database_url, script, tmp_path) as (first, second):
        slots = await first.line.api.get("/api/v1/slots", params={"service": "cleaning"})
        wanted.update(slots.json()["items"][0])
        raced = apart_from(wanted, slots.json()["items"])

        (call_a, after_a), (call_b, after_b), responses = await asyncio.gather(
            a_call_across(first, second, CALLERS[0]),
            a_call_across(second, first, CALLERS[1]),
            rest_race(first, second, raced),
        )
        assert after_a.verbs == after_b.verbs == ("Hangup",)

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * (RACERS - 1), [r.text for r in responses]
        (created,) = [r.json() for r in responses if r.status_code == 201]
        path = f"/api/v1/appointments/{created['id']}"
        assert await the_same_from_both(first, second, path) == created

        results = [
            json.loads(response.content)
            for session in first.line.emulator.sessions
            for response in session.function_responses
            if response.name == "book_appointment"
        ]
        assert sorted(r.get("error", "booked") for r in results) == ["booked", "slot_taken"]
        booked = await the_same_from_both(first, second, "/api/v1/appointments?status=booked")
        assert sorted((a["slot_id"], a["channel"]) for a in booked["items"]) == sorted(
            [(wanted["id"], "phone"), (raced["id"], "api")]
        )
        (winner,) = [a["call_sid"] for a in booked["items"] if a["channel"] == "phone"]
        for call in (call_a, call_b):
            record = await the_same_from_both(first, second, f"/api/v1/calls/{call.call_sid}")
            assert record["call"]["end_reason"] == "agent_ended"
            assert record["call"]["carrier_status"] == "completed"
            assert record["call"]["twilio_status"] == "completed"  # deprecated, still there
            outcome = record["tool_invocations"][0]["outcome"]
            assert outcome == ("ok" if call.call_sid == winner else "slot_taken")
        listed = await the_same_from_both(first, second, "/api/v1/calls")
        both = sorted([call_a.call_sid, call_b.call_sid])
        assert sorted(c["carrier_call_id"] for c in listed["items"]) == both
        assert_call_logs(first.log() + second.log(), [call_a, call_b])


def assert_call_logs(text: str, calls: list[CallIdentity]) -> None:
    """What operators read: JSON lines (the output is a file), one summary per call with
    its sid, and no caller's full number anywhere."""
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    for call in calls:
        (summary,) = [
            line
            for line in lines
            if line["event"] == "call ended" and line.get("carrier_call_id") == call.call_sid
        ]
        # two tools: the booking and end_call
        assert (summary["outcome"], summary["tools"]) == ("agent_ended", 2), summary
    for number in CALLERS:
        assert number[2:] not in text


async def until_live_events_relayed(server: ServerProcess) -> None:
    """Until the instance reports its live events relay listening (in /readyz)."""
    for _ in range(200):
        ready = await server.line.api.get("/readyz")
        if ready.json()["checks"].get("live_events") == "ok":
            return
        await asyncio.sleep(0.05)  # polling a probe, not synchronising with the call
    raise AssertionError(f"live events relay never listening: {ready.text}")


async def test_a_calls_live_events_reach_a_subscriber_on_the_other_instance(
    database_url: str, tmp_path: Path
) -> None:
    script: Script = [ExpectAudio(160), Say("Hello from the other side."), WaitForClose()]
    async with two_servers(database_url, script, tmp_path) as (first, second):
        await asyncio.gather(until_live_events_relayed(first), until_live_events_relayed(second))
        call = new_call(from_number=CALLERS[0])
        sim = stream(first, call, await ring(first, call))
        try:
            await sim.connect()  # the call lives on the first instance...
            record = await second.line.api.get(f"/api/v1/calls/{call.call_sid}")
            call_id = record.json()["call"]["id"]
            url = second.line.base_url.replace("http://", "ws://")
            headers = {"Authorization": f"Bearer {API_KEY}"}
            async with connect(
                f"{url}/api/v1/calls/{call_id}/events", additional_headers=headers
            ) as feed:  # ...and is followed on the second
                await sim.send_audio(bytes(160))
                frames: list[dict[str, Any]] = []
                while (
                    not frames
                    or frames[-1]["type"] != "transcript"
                    or (frames[-1]["text"] != "Hello from the other side.")
                ):
                    frames.append(json.loads(await asyncio.wait_for(feed.recv(), 10)))
                await sim.send_stop()
                ended = json.loads(await asyncio.wait_for(feed.recv(), 10))
                assert (ended["type"], ended["reason"]) == ("ended", "caller_hung_up")
            assert all(f["type"] == "transcript" and f["speaker"] == "agent" for f in frames)
        finally:
            await sim.close()
