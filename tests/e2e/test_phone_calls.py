"""Whole phone calls end to end: a real server on a real port, Twilio played by the
simulator, Deepgram by the emulator, PostgreSQL behind. Every wait is on an event."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from tests.e2e.phone_fixtures import FRONT_DESK, closed_at, phone_line
from tests.support.deepgram_emulator import (
    CallFunction,
    Close,
    Drop,
    EmulatedSession,
    ExpectAudio,
    Say,
    Script,
    SendRaw,
    UserSays,
    WaitForClose,
)
from tests.support.twilio_simulator import SimulatedCall, new_call
from websockets.exceptions import InvalidStatus

CALLER = "+14155550123"
GREETING_BYTES = 1600  # the emulator speaks the greeting as 1600 bytes of silence


@pytest.fixture
def engine_name() -> str:
    """End to end on PostgreSQL, the production engine."""
    return "postgres"


def media_chunks(sim: SimulatedCall) -> list[tuple[str, bytes]]:
    """What the server sent, in order: ("media", payload), ("clear", b""), ("mark", b"")."""
    chunks: list[tuple[str, bytes]] = []
    offset = 0
    for item in sim.received:
        if item.event == "media":
            chunks.append(("media", bytes(sim.audio[offset : offset + item.size])))
            offset += item.size
        else:
            chunks.append((item.event, b""))
    return chunks


def all_ok(session: EmulatedSession) -> list[dict[str, Any]]:
    results = [json.loads(r.content) for r in session.function_responses]
    assert all(r["ok"] is True for r in results), results
    return results


async def test_a_scripted_call_books_an_appointment_that_then_shows_in_the_rest_api(
    database_url: str,
) -> None:
    async with phone_line(database_url) as probe:
        slots = await probe.api.get("/api/v1/slots", params={"service": "cleaning"})
        assert slots.status_code == 200, slots.text
        slot = slots.json()["items"][0]
    day = slot["local_start"][:10]
    script: Script = [
        UserSays("I'd like a cleaning, please."),
        CallFunction("check_available_slots", json.dumps({"service": "cleaning", "date": day})),
        CallFunction(
            "book_appointment",
            json.dumps(
                {"slot_id": slot["id"], "service": "cleaning", "patient_name": "Ada Lovelace"}
            ),
        ),
        Say("You're booked. Anything else?"),
        CallFunction("end_call"),
        Say("Goodbye!"),
        WaitForClose(),
    ]
    async with phone_line(database_url, script) as line:
        call = new_call(from_number=CALLER)
        sim = await line.dial_in(call)
        await sim.wait_closed()
        session = await line.emulator.session(0)
        await session.wait_closed()
        assert session.script_error is None
        checked, booked, _ = all_ok(session)
        assert slot["id"] in [s["slot_id"] for s in checked["slots"]]
        assert booked["appointment"]["appointment_id"]
        assert [r.name for r in session.function_responses] == [
            "check_available_slots",
            "book_appointment",
            "end_call",
        ]
        assert (await line.after_stream(call)).verbs == ("Hangup",)
        await line.completed(call)
        sim.assert_no_violations()

        found = (await line.api.get("/api/v1/appointments", params={"phone": CALLER})).json()
        assert [(a["slot_id"], a["channel"]) for a in found["items"]] == [(slot["id"], "phone")]
        record = await line.call_record(call.call_sid)
        assert record["call"]["end_reason"] == "agent_ended"
        assert record["call"]["twilio_status"] == "completed"
        texts = [(t["speaker"], t["text"]) for t in record["turns"]]
        assert ("caller", "I'd like a cleaning, please.") in texts
        assert ("agent", "You're booked. Anything else?") in texts
        tools = {t["name"]: t["outcome"] for t in record["tool_invocations"]}
        assert tools["book_appointment"] == "ok"


async def test_barge_in_clears_the_callers_queue_before_the_next_utterance(
    database_url: str,
) -> None:
    long_fill, next_fill = 0x11, 0x22
    script: Script = [
        Say("Let me tell you all about our opening hours.", audio_bytes=16000, fill=long_fill),
        UserSays("Sorry, just one question."),
        Say("Of course, go ahead.", audio_bytes=1600, fill=next_fill),
        WaitForClose(),
    ]
    async with phone_line(database_url, script) as line:
        call = new_call(from_number=CALLER)
        sim = await line.dial_in(call)
        await sim.wait_for_audio(GREETING_BYTES + 16000 + 1600)
        chunks = media_chunks(sim)
        first_after = next(
            i for i, (kind, data) in enumerate(chunks) if kind == "media" and next_fill in data
        )
        last_long = max(
            i for i, (kind, data) in enumerate(chunks) if kind == "media" and long_fill in data
        )
        clears = [i for i, (kind, _) in enumerate(chunks) if kind == "clear"]
        assert len(clears) == 1
        assert last_long < clears[0] < first_after
        assert all(set(data) == {next_fill} for kind, data in chunks[first_after:] if data)
        assert sim.cleared_audio_bytes > 0
        await sim.send_stop(then_close=False)
        await sim.wait_closed()  # the server closes the stream once the record is saved
        sim.assert_no_violations()
        record = await line.call_record(call.call_sid)
        agent_turns = {
            t["text"]: t["interrupted"] for t in record["turns"] if t["speaker"] == "agent"
        }
        assert agent_turns["Let me tell you all about our opening hours."] is True
        assert agent_turns["Of course, go ahead."] is False


async def test_end_call_closes_the_stream_only_after_the_goodbye_played(
    database_url: str,
) -> None:
    goodbye_fill = 0x33
    script: Script = [
        Say("Anything else?"),
        CallFunction("end_call"),
        Say("Goodbye!", audio_bytes=4000, fill=goodbye_fill),
        WaitForClose(),
    ]
    async with phone_line(database_url, script) as line:
        call = new_call(from_number=CALLER)
        sim = await line.dial_in(call)
        await sim.wait_closed()
        assert sim.audio.endswith(bytes([goodbye_fill]) * 4000)
        goodbye_mark = sim.marks_received[-1]
        echoed_at = next(at for name, at in sim.marks_echoed if name == goodbye_mark)
        goodbye_arrived = next(r.at for r in sim.received if r.name == goodbye_mark)
        assert echoed_at >= goodbye_arrived + 4000 / 8000 - 0.01  # it really played out
        assert closed_at(sim) >= echoed_at
        assert (await line.after_stream(call)).verbs == ("Hangup",)
        await line.completed(call)
        sim.assert_no_violations()
        record = await line.call_record(call.call_sid)
        assert record["call"]["end_reason"] == "agent_ended"


async def test_transfer_to_human_dials_the_front_desk_after_the_stream(
    database_url: str,
) -> None:
    script: Script = [
        CallFunction("transfer_to_human", json.dumps({"reason": "wants a person"})),
        Say("Transferring you now."),
        WaitForClose(),
    ]
    async with phone_line(database_url, script) as line:
        call = new_call(from_number=CALLER)
        sim = await line.dial_in(call)
        await sim.wait_closed()
        assert closed_at(sim) >= sim.marks_echoed[-1][1]
        reply = await line.after_stream(call)
        assert "Connect" not in reply.verbs
        assert reply.dial_number == FRONT_DESK
        record = await line.call_record(call.call_sid)
        assert record["call"]["end_reason"] == "transferred"


async def test_forged_webhooks_and_handshakes_and_bad_tokens_reach_nothing(
    database_url: str,
) -> None:
    async with phone_line(database_url, [Say("Hello."), WaitForClose()]) as line:
        forged = new_call(from_number=CALLER)
        response = await line.api.post(
            "/twilio/voice",
            data={"CallSid": forged.call_sid, "From": CALLER, "To": forged.to_number},
            headers={"X-Twilio-Signature": "Zm9yZ2VkIHNpZ25hdHVyZQ=="},
        )
        assert response.status_code == 403
        missing = await line.api.get(f"/api/v1/calls/{forged.call_sid}")
        assert missing.status_code == 404

        call, reply = await line.ring()
        bad_handshake = line.stream(call, reply, signature="Zm9yZ2VkIHNpZ25hdHVyZQ==")
        with pytest.raises(InvalidStatus):
            await bad_handshake.connect()

        wrong_token = line.stream(call, reply, token="not-the-token")
        await wrong_token.connect()
        await wrong_token.wait_closed()
        assert not wrong_token.received

        genuine = line.stream(call, reply)
        await genuine.connect()
        await genuine.wait_for_audio(GREETING_BYTES)
        await genuine.send_stop()
        session = await line.emulator.session(0)
        await session.wait_closed()

        replayed = line.stream(call, reply)
        await replayed.connect()
        await replayed.wait_closed()
        assert not replayed.received
        assert len(line.emulator.sessions) == 1
        assert line.emulator.rejected_handshakes == 0
        for sim in (bad_handshake, wrong_token, genuine, replayed):
            await sim.close()


async def test_an_unknown_deepgram_message_is_harmless(database_url: str) -> None:
    script: Script = [
        SendRaw(json.dumps({"type": "SomethingNew", "detail": {"x": 1}})),
        Say("Still here.", fill=0x44),
        CallFunction("end_call"),
        Say("Goodbye!"),
        WaitForClose(),
    ]
    async with phone_line(database_url, script) as line:
        call = new_call(from_number=CALLER)
        sim = await line.dial_in(call)
        await sim.wait_closed()
        assert bytes([0x44]) * 1600 in sim.audio
        assert (await line.after_stream(call)).verbs == ("Hangup",)
        await line.completed(call)
        record = await line.call_record(call.call_sid)
        assert record["call"]["end_reason"] == "agent_ended"
        assert (record["call"]["twilio_status"], record["call"]["duration_s"]) == ("completed", 12)


LOOKUP = json.dumps({"service": "cleaning", "date": "2025-06-03"})


async def test_a_deepgram_drop_mid_call_is_recovered_with_the_conversation_so_far(
    database_url: str,
) -> None:
    def script(index: int) -> Script:
        if index == 0:
            return [
                Say("Hello there."),
                UserSays("I need a cleaning."),
                CallFunction("check_available_slots", LOOKUP),
                Say("Which day suits you?"),
                ExpectAudio(160),
                Drop(),
            ]
        return [
            ExpectAudio(320),
            Say("Sorry, we were cut off. Tuesday, then?", fill=0x66),
            CallFunction("end_call"),
            Say("Goodbye!"),
            WaitForClose(),
        ]

    async with phone_line(database_url, script) as line:
        call = new_call(from_number=CALLER)
        sim = await line.dial_in(call)
        await sim.wait_for_audio(GREETING_BYTES + 2 * 1600)
        await sim.send_audio(b"\x7f" * 160)
        first = await line.emulator.session(0)
        await first.wait_closed()
        dropped_at = asyncio.get_running_loop().time()
        second = await line.emulator.session(1)
        assert asyncio.get_running_loop().time() - dropped_at < 1.0
        await sim.send_audio(b"\x7e" * 320)  # during the gap, or just after it
        await sim.wait_closed()
        assert bytes([0x66]) * 1600 in sim.audio
        await second.wait_closed()
        assert second.script_error is None
        assert first.settings is not None
        assert second.settings is not None
        assert second.settings.agent.greeting is None
        assert second.settings.agent.context is not None
        history = [
            (m.role, m.content)
            if m.function_calls is None
            else [(c.id, c.name, c.arguments, c.response) for c in m.function_calls]
            for m in second.settings.agent.context.messages
        ]
        (looked_up,) = first.function_responses
        assert history == [
            ("assistant", first.settings.agent.greeting),
            ("assistant", "Hello there."),
            ("user", "I need a cleaning."),
            [(looked_up.id, "check_available_slots", LOOKUP, looked_up.content)],
            ("assistant", "Which day suits you?"),
        ]
        assert [r.name for r in second.function_responses] == ["end_call"]
        assert (await line.after_stream(call)).verbs == ("Hangup",)
        sim.assert_no_violations()
        record = await line.call_record(call.call_sid)
        assert record["call"]["end_reason"] == "agent_ended"
        texts = [t["text"] for t in record["turns"]]
        assert texts[-2:] == ["Sorry, we were cut off. Tuesday, then?", "Goodbye!"]


async def test_when_deepgram_cannot_be_reopened_the_caller_is_transferred(
    database_url: str,
) -> None:
    def script(index: int) -> Script:
        # the first waits for the caller (its conversation may open before the stream)
        first: Script = [ExpectAudio(160), Say("Hello there.", fill=0x55), Drop()]
        return first if index == 0 else [Close(1011, "busy")]

    async with phone_line(database_url, script) as line:
        call = new_call(from_number=CALLER)
        sim = await line.dial_in(call)
        await sim.send_audio(b"\x7f" * 160)
        await sim.wait_closed()
        assert sim.close_code == 1000
        assert len(line.emulator.sessions) == 4  # the first, then three tries
        assert all(s.settings is not None for s in line.emulator.sessions)
        assert [
            s.settings.agent.greeting is None for s in line.emulator.sessions if s.settings
        ] == [
            False,
            True,
            True,
            True,
        ]
        record = await line.call_record(call.call_sid)
        assert record["call"]["end_reason"] == "agent_failed"
        assert record["call"]["ended_at"] is not None
        reply = await line.after_stream(call)
        assert reply.dial_number == FRONT_DESK
        assert "Connect" not in reply.verbs
        assert any("sorry" in say.lower() for say in reply.says)


async def test_the_caller_hanging_up_closes_the_deepgram_socket_within_a_second(
    database_url: str,
) -> None:
    script: Script = [Say("How can I help?", audio_bytes=8000), WaitForClose()]
    async with phone_line(database_url, script) as line:
        call = new_call(from_number=CALLER)
        sim = await line.dial_in(call)
        await sim.wait_for_audio(GREETING_BYTES + 800)
        await sim.send_audio(b"\x7f" * 320)
        await sim.send_stop(then_close=False)
        # Twilio's status callback races the session's own finalisation, as in production.
        await asyncio.gather(line.completed(call), line.emulator.sessions[0].wait_closed(1.0))
        await sim.wait_closed()  # the server closes the stream once the record is saved
        record = await line.call_record(call.call_sid)
        assert record["call"]["end_reason"] == "caller_hung_up"
        assert record["call"]["ended_at"] is not None
        assert (record["call"]["twilio_status"], record["call"]["duration_s"]) == ("completed", 12)
        assert ("agent", "How can I help?") in [(t["speaker"], t["text"]) for t in record["turns"]]


CONCURRENT_CALLS = 20
SAY_BYTES = 1600


def _pattern(index: int) -> tuple[int, int]:
    return 2 * index + 1, 2 * index + 2


async def test_concurrent_calls_never_hear_each_others_audio(database_url: str) -> None:
    def script(index: int) -> Script:
        first, second = _pattern(index)
        return [
            ExpectAudio(160),
            Say("One.", audio_bytes=SAY_BYTES, fill=first),
            Say("Two.", audio_bytes=SAY_BYTES, fill=second),
            WaitForClose(),
        ]

    async with phone_line(database_url, script, record_audio=True) as line:
        calls = [new_call(from_number=f"+1415555{200 + n:04d}") for n in range(CONCURRENT_CALLS)]
        sims = await asyncio.gather(*(line.dial_in(call) for call in calls))
        await asyncio.gather(
            *(sim.send_audio(bytes([100 + n]) * 160) for n, sim in enumerate(sims))
        )
        expected_bytes = GREETING_BYTES + 2 * SAY_BYTES
        await asyncio.gather(*(sim.wait_for_audio(expected_bytes, timeout_s=10) for sim in sims))
        await asyncio.gather(*(sim.send_stop() for sim in sims))
        sessions = [await line.emulator.session(i) for i in range(CONCURRENT_CALLS)]
        await asyncio.gather(*(s.wait_closed(timeout_s=10) for s in sessions))
        for n, sim in enumerate(sims):
            (session,) = [s for s in sessions if s.audio and set(s.audio) == {100 + n}]
            first, second = _pattern(session.index)
            assert bytes(sim.audio) == (
                b"\xff" * GREETING_BYTES + bytes([first]) * SAY_BYTES + bytes([second]) * SAY_BYTES
            )
            sim.assert_no_violations()
            await sim.close()


async def test_the_callers_upcoming_appointments_are_in_the_agents_prompt(
    database_url: str,
) -> None:
    async with phone_line(database_url, [Say("Hello."), WaitForClose()]) as line:
        slots = (await line.api.get("/api/v1/slots", params={"service": "checkup"})).json()
        booked = await line.api.post(
            "/api/v1/appointments",
            json={
                "slot_id": slots["items"][0]["id"],
                "service": "checkup",
                "patient_name": "Grace Hopper",
                "patient_phone": CALLER,
            },
        )
        assert booked.status_code == 201, booked.text
        sim = await line.dial_in(new_call(from_number=CALLER))
        session = await line.emulator.session(0)
        await session.wait_until(lambda: session.settings is not None)
        assert session.settings is not None
        assert session.settings.agent.think is not None
        prompt = session.settings.agent.think.prompt or ""
        assert booked.json()["id"] in prompt
        assert "no upcoming appointments" not in prompt
        await sim.send_stop()
        await session.wait_closed()
        await sim.close()


async def test_without_a_deepgram_key_the_webhook_apologises_and_dials_the_front_desk(
    database_url: str,
) -> None:
    async with phone_line(database_url, deepgram_key=None) as line:
        call, reply = await line.ring()
        assert reply.verbs == ("Say", "Dial")
        assert reply.dial_number == FRONT_DESK
        assert any("Sorry" in say for say in reply.says)
        assert not line.emulator.sessions
        record = await line.call_record(call.call_sid)  # turned away, and on record
        assert record["call"]["end_reason"] == "agent_not_configured"
        assert record["turns"] == []
