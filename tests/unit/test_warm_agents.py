"""Voice agent conversations opened at admission (`WarmAgents`), through `AnswerCall`:
handed to the stream that claims the call, or not, and closed when no stream comes."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from application.calls.admission import AdmitCallHandler, IncomingCall, OpenStreamHandler
from application.calls.answer import AnswerCall
from application.calls.session import SessionLimits
from application.calls.warm_agents import WarmAgents
from application.ports import AgentAudio, AgentAudioDone, AudioEncoding, AudioFormat
from domain.calls import EndReason
from tests.support.clock import FixedClock
from tests.support.fakes import InMemoryStore, fake_unit_of_work_factory
from tests.support.practice import NOW, make_practice
from tests.support.tools import wired_tools
from tests.support.voice_fakes import FakeCallLeg, FakeVoiceAgent

SID = "CA" + "2" * 32
INCOMING = IncomingCall(
    carrier="fake", carrier_call_id=SID, from_number="+14155550123", to_number="+12125550100"
)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


class Outcomes:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def prepared_agent_ended(self, outcome: str) -> None:
        self.seen.append(outcome)


def answering(
    store: InMemoryStore, voice_agent: FakeVoiceAgent, *, timeout_s: float = 20.0
) -> tuple[AnswerCall, WarmAgents, Outcomes]:
    practice = make_practice()
    uow, clock = fake_unit_of_work_factory(store), FixedClock(NOW)
    outcomes = Outcomes()
    warm = WarmAgents(voice_agent, timeout_s=timeout_s, observer=outcomes)
    answer = AnswerCall(
        practice=practice,
        uow=uow,
        clock=clock,
        voice_agent=voice_agent,
        tools=wired_tools(practice, uow, clock),
        open_stream=OpenStreamHandler(uow),
        limits=SessionLimits(goodbye_timeout_s=1, tool_drain_timeout_s=1, max_call_s=5),
        warm=warm,
    )
    return answer, warm, outcomes


async def admitted(store: InMemoryStore) -> str:
    return await AdmitCallHandler(fake_unit_of_work_factory(store), FixedClock(NOW))(INCOMING)


def played(leg: FakeCallLeg) -> bytes:
    return b"".join(w[1] for w in leg.writes if w[0] == "play")


async def test_the_conversation_opened_at_admission_is_handed_to_the_stream_with_its_greeting(
    store: InMemoryStore,
) -> None:
    voice_agent = FakeVoiceAgent()
    answer, warm, outcomes = answering(store, voice_agent)
    token = await admitted(store)
    answer.prepare(INCOMING)
    connection = await voice_agent.wait_connected()
    connection.emit(AgentAudio(b"hello "), AgentAudio(b"caller"), AgentAudioDone())
    await connection.wait_handled(3)  # read and kept before any stream

    leg = FakeCallLeg(SID)
    running = asyncio.create_task(answer(leg, token))
    await leg.wait_until(lambda: played(leg) == b"hello caller")
    assert len(voice_agent.profiles) == 1  # no second conversation
    leg.hang_up()
    async with asyncio.timeout(3):
        call = await running
    assert call is not None
    assert call.end_reason is EndReason.CALLER_HUNG_UP
    assert connection.closed
    assert outcomes.seen == ["handed_over"]
    assert len(warm) == 0


async def test_a_stream_that_finds_no_conversation_ready_connects_one_itself(
    store: InMemoryStore,
) -> None:
    voice_agent = FakeVoiceAgent()
    answer, _, outcomes = answering(store, voice_agent)
    token = await admitted(store)  # admitted by another process: nothing prepared here
    leg = FakeCallLeg(SID)
    running = asyncio.create_task(answer(leg, token))
    connection = await voice_agent.wait_connected()
    assert voice_agent.profiles[0].greeting  # the agent says the greeting
    leg.hang_up()
    async with asyncio.timeout(3):
        await running
    assert connection.closed
    assert outcomes.seen == ["connected_at_stream"]


async def test_a_conversation_that_could_not_be_opened_ahead_is_opened_by_the_stream(
    store: InMemoryStore,
) -> None:
    voice_agent = FakeVoiceAgent(refusals=1)
    answer, _, outcomes = answering(store, voice_agent)
    token = await admitted(store)
    answer.prepare(INCOMING)
    await voice_agent.wait_for_attempts(1)

    leg = FakeCallLeg(SID)
    running = asyncio.create_task(answer(leg, token))
    connection = await voice_agent.wait_connected()
    assert len(voice_agent.profiles) == 2
    assert voice_agent.profiles[1].greeting  # a fresh start, greeting and all
    leg.hang_up()
    async with asyncio.timeout(3):
        call = await running
    assert call is not None
    assert call.end_reason is EndReason.CALLER_HUNG_UP
    assert connection.closed
    assert outcomes.seen == ["connected_at_stream"]


async def test_a_stream_of_another_audio_format_does_not_get_the_prepared_conversation(
    store: InMemoryStore,
) -> None:
    voice_agent = FakeVoiceAgent()
    answer, _, outcomes = answering(store, voice_agent)
    token = await admitted(store)
    answer.prepare(INCOMING)  # prepared for telephone audio (mu-law, 8 kHz)
    early = await voice_agent.wait_connected()
    leg = FakeCallLeg(SID, audio_format=AudioFormat(AudioEncoding.PCMA, 8000))
    running = asyncio.create_task(answer(leg, token))
    await voice_agent.wait_for_connections(2)
    assert voice_agent.formats[1] == AudioFormat(AudioEncoding.PCMA, 8000)
    leg.hang_up()
    async with asyncio.timeout(3):
        await running
    await early.wait_closed()
    assert outcomes.seen == ["connected_at_stream"]


async def test_a_conversation_no_stream_comes_for_is_closed_after_the_timeout(
    store: InMemoryStore,
) -> None:
    voice_agent = FakeVoiceAgent()
    answer, warm, outcomes = answering(store, voice_agent, timeout_s=0.05)
    await admitted(store)
    answer.prepare(INCOMING)
    connection = await voice_agent.wait_connected()
    async with asyncio.timeout(3):
        await connection.wait_closed()
    assert outcomes.seen == ["expired"]
    assert len(warm) == 0


async def test_a_refused_stream_never_gets_the_conversation_and_the_right_one_then_does(
    store: InMemoryStore,
) -> None:
    voice_agent = FakeVoiceAgent()
    answer, _, outcomes = answering(store, voice_agent)
    token = await admitted(store)
    answer.prepare(INCOMING)
    connection = await voice_agent.wait_connected()
    connection.emit(AgentAudio(b"greeting"))

    stray = FakeCallLeg(SID)
    assert await answer(stray, "forged-token") is None
    assert stray.ended
    assert played(stray) == b""
    assert not connection.closed
    assert outcomes.seen == []

    leg = FakeCallLeg(SID)
    running = asyncio.create_task(answer(leg, token))
    await leg.wait_until(lambda: played(leg) == b"greeting")
    leg.hang_up()
    async with asyncio.timeout(3):
        await running
    assert outcomes.seen == ["handed_over"]


async def test_a_call_that_ends_before_its_stream_closes_its_conversation(
    store: InMemoryStore,
) -> None:
    voice_agent = FakeVoiceAgent()
    answer, warm, outcomes = answering(store, voice_agent)
    await admitted(store)
    answer.prepare(INCOMING)
    connection = await voice_agent.wait_connected()
    answer.forget(INCOMING.carrier, INCOMING.carrier_call_id)  # a final status report
    async with asyncio.timeout(3):
        await connection.wait_closed()
    assert outcomes.seen == ["discarded"]
    assert len(warm) == 0


async def test_a_stream_that_arrives_while_the_conversation_opens_takes_it_once_open(
    store: InMemoryStore,
) -> None:
    gate = asyncio.Event()
    voice_agent = FakeVoiceAgent(gate=gate)
    answer, _, outcomes = answering(store, voice_agent)
    token = await admitted(store)
    answer.prepare(INCOMING)
    await voice_agent.wait_for_attempts(1)  # opening, not open

    leg = FakeCallLeg(SID)
    running = asyncio.create_task(answer(leg, token))
    leg.say(b"\x7f" * 160)
    gate.set()
    connection = await voice_agent.wait_connected()
    await connection.wait_for_audio(1)  # the caller's audio waited for it, in order
    assert connection.audio == [b"\x7f" * 160]
    assert len(voice_agent.profiles) == 1
    leg.hang_up()
    async with asyncio.timeout(3):
        await running
    assert outcomes.seen == ["handed_over"]


def test_an_incoming_call_expects_telephone_audio_unless_told() -> None:
    assert INCOMING.audio == AudioFormat(AudioEncoding.PCMU, 8000)
    assert dataclasses.replace(INCOMING, audio=AudioFormat(AudioEncoding.PCMA, 8000)).audio
