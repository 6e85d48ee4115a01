"""A call's life on the carrier's side (admit or turn away, open its stream, next step,
status) and `AnswerCall`, over the in-memory unit of work and a fake voice agent."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid

import pytest

from application.calls.admission import (
    AdmitCallHandler,
    CallStatusReport,
    IncomingCall,
    NextStepHandler,
    OpenStreamHandler,
    RecordCallStatusHandler,
    TurnAwayCallHandler,
    token_digest,
)
from application.calls.answer import AnswerCall
from application.calls.limits import SessionLimits
from application.errors import StorageUnavailable
from application.ports import AgentAudio, HistoryItem, Transcript
from application.receptionist.tools import CallContext
from domain.calls import Call, CallStatus, EndReason, NextStep, StreamRefused
from domain.scheduling import PhoneNumber, Practice
from tests.support.clock import FixedClock
from tests.support.fakes import InMemoryStore, fake_unit_of_work_factory
from tests.support.practice import MONDAY, NOW, make_practice, slot_at
from tests.support.tools import wired_tools
from tests.support.voice_fakes import FakeCallLeg, FakeVoiceAgent

SID = "CA" + "1" * 32
CALLER = "+14155550123"
CARRIER = "fake"
INCOMING = IncomingCall(
    carrier=CARRIER, carrier_call_id=SID, from_number=CALLER, to_number="+12125550100"
)


def stored(store: InMemoryStore, reference: str = SID) -> Call:
    """The stored call the carrier knows as `reference`."""
    (call,) = [c for c in store.calls.values() if c.carrier_call_id == reference]
    return call


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


def admit(store: InMemoryStore) -> AdmitCallHandler:
    return AdmitCallHandler(fake_unit_of_work_factory(store), FixedClock(NOW))


def next_step(store: InMemoryStore) -> NextStepHandler:
    return NextStepHandler(fake_unit_of_work_factory(store))


def open_stream(store: InMemoryStore) -> OpenStreamHandler:
    return OpenStreamHandler(fake_unit_of_work_factory(store))


# --- admission ---------------------------------------------------------------------


async def test_admitting_a_call_records_it_ringing_and_stores_only_the_tokens_digest(
    store: InMemoryStore,
) -> None:
    token = await admit(store)(INCOMING)
    call = stored(store)
    assert call.status is CallStatus.RINGING
    assert (call.from_number, call.started_at) == (CALLER, NOW)
    assert call.stream_token_digest == token_digest(token)
    assert call.stream_token_digest != token
    assert len(token) >= 24


async def test_the_right_token_opens_the_stream_once(store: InMemoryStore) -> None:
    token = await admit(store)(INCOMING)
    call = await open_stream(store)(CARRIER, SID, token)
    assert call.status is CallStatus.IN_PROGRESS
    assert stored(store).status is CallStatus.IN_PROGRESS
    assert stored(store).stream_token_digest is None
    with pytest.raises(StreamRefused):
        await open_stream(store)(CARRIER, SID, token)


async def test_a_wrong_token_is_refused_and_the_right_one_still_works(
    store: InMemoryStore,
) -> None:
    token = await admit(store)(INCOMING)
    with pytest.raises(StreamRefused):
        await open_stream(store)(CARRIER, SID, "not-the-token")
    assert stored(store).status is CallStatus.RINGING
    await open_stream(store)(CARRIER, SID, token)


async def test_a_stream_for_an_unknown_call_is_refused(store: InMemoryStore) -> None:
    with pytest.raises(StreamRefused):
        await open_stream(store)(CARRIER, "CA-unknown", "whatever")


async def test_a_repeated_webhook_while_ringing_issues_a_fresh_token_and_voids_the_old(
    store: InMemoryStore,
) -> None:
    first = await admit(store)(INCOMING)
    second = await admit(store)(INCOMING)
    assert first != second
    with pytest.raises(StreamRefused):
        await open_stream(store)(CARRIER, SID, first)
    await open_stream(store)(CARRIER, SID, second)


async def test_a_webhook_for_a_call_already_answered_is_refused(store: InMemoryStore) -> None:
    await open_stream(store)(CARRIER, SID, await admit(store)(INCOMING))
    with pytest.raises(StreamRefused):
        await admit(store)(INCOMING)


async def test_the_next_step_of_an_unknown_call_is_to_hang_up(store: InMemoryStore) -> None:
    assert await next_step(store)(CARRIER, "CA-unknown") is NextStep.HANG_UP


async def test_the_next_step_is_read_from_the_stored_call(store: InMemoryStore) -> None:
    await admit(store)(INCOMING)
    stored(store).plan(NextStep.TRANSFER)
    assert await next_step(store)(CARRIER, SID) is NextStep.TRANSFER


async def test_a_call_whose_end_is_not_stored_yet_goes_to_the_front_desk(
    store: InMemoryStore,
) -> None:
    await admit(store)(INCOMING)  # the final record was refused: only the admission is stored
    assert await next_step(store)(CARRIER, SID) is NextStep.APOLOGISE
    stored(store).end(EndReason.AGENT_ENDED, NOW)
    assert await next_step(store)(CARRIER, SID) is NextStep.HANG_UP


async def test_a_final_status_callback_ends_the_call(store: InMemoryStore) -> None:
    await admit(store)(INCOMING)
    record = RecordCallStatusHandler(fake_unit_of_work_factory(store), FixedClock(NOW))
    report = CallStatusReport(
        carrier=CARRIER,
        carrier_call_id=SID,
        carrier_status="completed",
        final=True,
        duration_s=42,
    )
    assert await record(report) is True
    call = stored(store)
    assert call.status is CallStatus.ENDED
    assert (call.carrier_status, call.duration_s) == ("completed", 42)
    assert call.end_reason is EndReason.CALLER_HUNG_UP


async def test_an_interim_status_callback_is_recorded_without_ending_the_call(
    store: InMemoryStore,
) -> None:
    await admit(store)(INCOMING)
    record = RecordCallStatusHandler(fake_unit_of_work_factory(store), FixedClock(NOW))
    assert await record(
        CallStatusReport(
            carrier=CARRIER, carrier_call_id=SID, carrier_status="ringing", final=False
        )
    )
    assert stored(store).is_live
    assert stored(store).carrier_status == "ringing"


async def test_a_status_callback_for_an_unknown_call_returns_false(store: InMemoryStore) -> None:
    record = RecordCallStatusHandler(fake_unit_of_work_factory(store), FixedClock(NOW))
    report = CallStatusReport(
        carrier=CARRIER, carrier_call_id="CA-unknown", carrier_status="completed", final=True
    )
    assert await record(report) is False
    assert store.calls == {}


# --- AnswerCall --------------------------------------------------------------------


def answer_call(
    store: InMemoryStore, voice_agent: FakeVoiceAgent, practice: Practice | None = None
) -> AnswerCall:
    practice = practice or make_practice()
    uow, clock = fake_unit_of_work_factory(store), FixedClock(NOW)
    tools = wired_tools(practice, uow, clock)
    return AnswerCall(
        practice=practice,
        uow=uow,
        clock=clock,
        voice_agent=voice_agent,
        tools=tools,
        open_stream=OpenStreamHandler(uow),
        limits=SessionLimits(goodbye_timeout_s=1, tool_drain_timeout_s=1, max_call_s=5),
    )


async def test_a_refused_stream_is_closed_without_contacting_the_voice_agent(
    store: InMemoryStore,
) -> None:
    await admit(store)(INCOMING)
    voice_agent, leg = FakeVoiceAgent(), FakeCallLeg(SID)
    assert await answer_call(store, voice_agent)(leg, "forged-token") is None
    assert leg.ended
    assert voice_agent.profiles == []
    assert stored(store).status is CallStatus.RINGING


async def test_only_a_stream_that_claims_its_call_is_told_so_and_before_the_agent_is_called(
    store: InMemoryStore,
) -> None:
    token = await admit(store)(INCOMING)
    voice_agent = FakeVoiceAgent(unavailable=True)
    claims: list[tuple[str, int]] = []

    def claimed(call: Call) -> None:
        claims.append((call.carrier_call_id, len(voice_agent.profiles)))

    answer = answer_call(store, voice_agent)
    assert await answer(FakeCallLeg(SID), "forged-token", claimed=claimed) is None
    assert claims == []
    await answer(FakeCallLeg(SID), token, claimed=claimed)
    assert claims == [(SID, 0)]
    assert await answer(FakeCallLeg(SID), token, claimed=claimed) is None  # replayed
    assert claims == [(SID, 0)]


async def test_a_stream_that_cannot_be_checked_for_the_database_being_down_is_closed(
    store: InMemoryStore,
) -> None:
    token = await admit(store)(INCOMING)

    async def database_down(carrier: str, carrier_call_id: str, token: str) -> Call:
        raise StorageUnavailable()

    voice_agent, leg = FakeVoiceAgent(), FakeCallLeg(SID)
    answer = dataclasses.replace(answer_call(store, voice_agent), open_stream=database_down)
    claims: list[Call] = []
    assert await answer(leg, token, claimed=claims.append) is None
    assert leg.ended
    assert (voice_agent.profiles, claims) == ([], [])


@pytest.mark.parametrize("front_desk", ["+12125550199", None])
async def test_an_unavailable_agent_ends_the_call_with_an_apology(
    store: InMemoryStore, front_desk: str | None
) -> None:
    """APOLOGISE: the after-stream TwiML says sorry, then dials the desk if there is one."""
    step = NextStep.APOLOGISE
    token = await admit(store)(INCOMING)
    practice = dataclasses.replace(make_practice(), front_desk_phone=front_desk)
    voice_agent, leg = FakeVoiceAgent(unavailable=True), FakeCallLeg(SID)
    call = await answer_call(store, voice_agent, practice)(leg, token)
    assert call is not None
    assert (call.end_reason, call.next_step) == (EndReason.AGENT_UNAVAILABLE, step)
    record = stored(store)
    assert (record.status, record.end_reason, record.next_step) == (
        CallStatus.ENDED,
        EndReason.AGENT_UNAVAILABLE,
        step,
    )
    assert leg.ended
    assert len(voice_agent.profiles) == 1


async def test_the_agent_is_briefed_on_the_callers_upcoming_appointments_and_the_call_runs(
    store: InMemoryStore,
) -> None:
    answer = answer_call(store, FakeVoiceAgent())
    booking = {
        "slot_id": slot_at("dr-lee", MONDAY, 10),
        "service": "cleaning",
        "patient_name": "Ada Lovelace",
    }
    booked = await answer.tools.invoke(
        "book_appointment",
        json.dumps(booking),
        CallContext(call_id=uuid.uuid4(), caller_phone=PhoneNumber(CALLER)),
    )
    appointment_id = json.loads(booked.content)["appointment"]["appointment_id"]

    token = await admit(store)(INCOMING)
    voice_agent = answer.voice_agent
    assert isinstance(voice_agent, FakeVoiceAgent)
    leg = FakeCallLeg(SID)
    running = asyncio.create_task(answer(leg, token))
    connection = await voice_agent.wait_connected()
    (profile,) = voice_agent.profiles
    assert "Monday, November 23 at 10 AM for Ada Lovelace" in profile.prompt
    assert appointment_id in profile.prompt
    assert [t.name for t in profile.tools][:1] == ["check_available_slots"]

    leg.hang_up()
    async with asyncio.timeout(3):
        call = await running
    assert call is not None
    assert call.end_reason is EndReason.CALLER_HUNG_UP
    assert connection.closed
    assert leg.ended
    assert stored(store).status is CallStatus.ENDED


@pytest.mark.parametrize(
    "caller_id", ["anonymous", "Restricted", "", "client:alice", "sip:+14155550123@pbx.example"]
)
async def test_a_hidden_caller_id_briefs_the_agent_to_ask_for_the_number(
    store: InMemoryStore, caller_id: str
) -> None:
    hidden = dataclasses.replace(INCOMING, from_number=caller_id)
    token = await admit(store)(hidden)
    voice_agent = FakeVoiceAgent(unavailable=True)
    await answer_call(store, voice_agent)(FakeCallLeg(SID), token)
    assert "number is hidden" in voice_agent.profiles[0].prompt


async def test_an_agent_that_fails_mid_call_is_reopened_with_the_same_brief_and_no_greeting(
    store: InMemoryStore,
) -> None:
    token = await admit(store)(INCOMING)
    voice_agent, leg = FakeVoiceAgent(), FakeCallLeg(SID)
    running = asyncio.create_task(answer_call(store, voice_agent)(leg, token))
    first = await voice_agent.wait_connected()
    first.emit(Transcript("assistant", "Hello!"), Transcript("user", "Hi, I need a cleaning."))
    first.fail("socket closed")
    second = await voice_agent.wait_for_connections(2)
    second.emit(AgentAudio(b"go on"))
    await leg.wait_for_played(1)
    opened, resumed = voice_agent.profiles
    assert opened.greeting
    assert resumed.greeting is None
    assert resumed.prompt == opened.prompt
    assert list(resumed.history) == [
        HistoryItem("assistant", "Hello!"),
        HistoryItem("user", "Hi, I need a cleaning."),
    ]
    leg.hang_up()
    async with asyncio.timeout(3):
        call = await running
    assert call is not None
    assert call.end_reason is EndReason.CALLER_HUNG_UP
    assert first.closed
    assert second.closed


async def test_a_turned_away_call_is_recorded_ended_once_with_its_reason(
    store: InMemoryStore,
) -> None:
    turn_away = TurnAwayCallHandler(fake_unit_of_work_factory(store), FixedClock(NOW))
    await turn_away(INCOMING, EndReason.AT_CAPACITY, NextStep.TRANSFER)
    await turn_away(INCOMING, EndReason.DRAINING, NextStep.HANG_UP)  # the carrier retried
    record = stored(store)
    assert (record.status, record.end_reason, record.next_step) == (
        CallStatus.ENDED,
        EndReason.AT_CAPACITY,
        NextStep.TRANSFER,
    )
    assert record.stream_token_digest is None
    assert (record.started_at, record.ended_at) == (NOW, NOW)
