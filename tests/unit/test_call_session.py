"""`CallSession` between a fake caller leg and a fake voice agent, over the in-memory
unit of work. Tests script both sides and await what each received; nothing sleeps."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from application.calls.agent_link import History, Reconnect, RecoveryLimits
from application.calls.events import AgentReconnected, CallEvent
from application.calls.limits import SessionLimits
from application.calls.session import CallSession
from application.errors import StorageUnavailable
from application.ports import (
    TELEPHONE_AUDIO,
    AgentAudio,
    AgentAudioDone,
    AgentConnection,
    AgentProfile,
    AgentReady,
    AgentStartedSpeaking,
    CallerDtmf,
    HistoryItem,
    ToolCallHistory,
    ToolCallRequested,
    Transcript,
    UnitOfWork,
    UnitOfWorkFactory,
    UserStartedSpeaking,
)
from application.receptionist.tools import CallContext, ReceptionistTools, ToolOutcome
from domain.calls import Call, CallStatus, EndReason, NextStep, Speaker
from domain.scheduling import AppointmentStatus, PhoneNumber, Practice
from tests.support.clock import FixedClock
from tests.support.fakes import InMemoryStore, fake_unit_of_work_factory
from tests.support.practice import MONDAY, NOW, make_practice, slot_at
from tests.support.session_parts import (
    CALL_ID,
    CALLER,
    FAST,
    SID,
    GatedTools,
    live_call,
)
from tests.support.tools import make_tools
from tests.support.voice_fakes import FakeAgentConnection, FakeCallLeg, FakeVoiceAgent


@dataclasses.dataclass
class Rig:
    session: CallSession
    leg: FakeCallLeg
    agent: FakeAgentConnection
    store: InMemoryStore
    tools: GatedTools
    task: asyncio.Task[Call]

    async def finished(self) -> Call:
        async with asyncio.timeout(3):
            return await self.task

    @property
    def stored(self) -> Call:
        return self.store.calls[CALL_ID]


@asynccontextmanager
async def running_session(
    *,
    limits: SessionLimits = FAST,
    practice: Practice | None = None,
    fallback_step: NextStep = NextStep.APOLOGISE,
    voice: FakeVoiceAgent | None = None,
    observer: RecordingObserver | None = None,
    outage: Outage | None = None,
) -> AsyncIterator[Rig]:
    """`outage`, when given, stands between the session's call record and the store."""
    practice = practice or make_practice()
    store = InMemoryStore()
    call = live_call()
    store.calls[CALL_ID] = copy.deepcopy(call)
    leg, agent = FakeCallLeg(SID), FakeAgentConnection()
    tools = GatedTools(make_tools(store, practice))
    session = CallSession(
        call=call,
        leg=leg,
        agent=agent,
        tools=tools,
        context=CallContext(call_id=CALL_ID, caller_phone=PhoneNumber(CALLER)),
        uow=outage.over(store) if outage else fake_unit_of_work_factory(store),
        clock=FixedClock(NOW),
        limits=limits,
        fallback_step=fallback_step,
        observer=observer,
        reconnect=_reconnector(voice) if voice is not None else None,
    )
    task = asyncio.create_task(session.run())
    try:
        yield Rig(session, leg, agent, store, tools, task)
    finally:
        if not task.done():
            leg.hang_up()
            async with asyncio.timeout(3):
                await task


PROFILE = AgentProfile(
    prompt="You are the receptionist.",
    greeting="Hello, Test Dental.",
    tools=(),
)


def _reconnector(voice: FakeVoiceAgent) -> Reconnect:
    """What `AnswerCall` builds: the same profile, no greeting, the history given."""

    async def reconnect(history: History) -> AgentConnection:
        resumed = dataclasses.replace(PROFILE, greeting=None, history=tuple(history))
        return await voice.connect(resumed, TELEPHONE_AUDIO)

    return reconnect


class RecordingObserver:
    def __init__(self) -> None:
        self.events: list[CallEvent] = []

    def publish(self, call_sid: str, event: CallEvent) -> None:
        self.events.append(event)


def booking_arguments(hour: int = 10) -> str:
    return json.dumps(
        {
            "slot_id": slot_at("dr-lee", MONDAY, hour),
            "service": "cleaning",
            "patient_name": "Ada Lovelace",
        }
    )


# --- audio -------------------------------------------------------------------------


async def test_caller_audio_is_forwarded_to_the_agent_in_order() -> None:
    async with running_session() as rig:
        rig.leg.say(b"one", b"two", b"three")
        rig.leg.send(CallerDtmf("5"))
        rig.leg.say(b"four")
        await rig.agent.wait_for_audio(4)
        assert rig.agent.audio == [b"one", b"two", b"three", b"four"]
        assert rig.session.stats.frames_in == 4


async def test_agent_audio_is_played_to_the_caller_in_order() -> None:
    async with running_session() as rig:
        rig.agent.emit(AgentAudio(b"a"), AgentAudio(b"b"), AgentAudio(b"c"))
        await rig.leg.wait_for_played(3)
        assert rig.leg.writes == [("play", b"a"), ("play", b"b"), ("play", b"c")]
        assert rig.session.stats.frames_out == 3


async def test_the_end_of_an_agent_turn_sends_a_mark_after_its_audio() -> None:
    async with running_session() as rig:
        rig.agent.emit(AgentAudio(b"a"), AgentAudioDone(), AgentAudio(b"b"), AgentAudioDone())
        await rig.leg.wait_for_finished_turns(2)
        assert rig.leg.writes == [
            ("play", b"a"),
            ("finish_turn", 1),
            ("play", b"b"),
            ("finish_turn", 2),
        ]


# --- barge-in ----------------------------------------------------------------------


async def test_barge_in_clears_playback_before_the_next_audio_and_marks_the_turn_interrupted() -> (
    None
):
    async with running_session() as rig:
        rig.agent.emit(Transcript("assistant", "Our hours are nine to five on weekdays"))
        rig.agent.emit(AgentAudio(b"a1"), AgentAudio(b"a2"))
        await rig.leg.wait_for_played(2)
        rig.agent.emit(UserStartedSpeaking(), AgentAudio(b"b1"))
        await rig.leg.wait_for_played(3)
        assert rig.leg.writes == [("play", b"a1"), ("play", b"a2"), ("interrupt",), ("play", b"b1")]
        assert rig.session.stats.barge_ins == 1
        assert rig.session.call.turns[-1].interrupted


async def test_barge_in_during_a_marked_turn_that_has_not_played_yet_counts() -> None:
    async with running_session() as rig:
        rig.agent.emit(Transcript("assistant", "Hello"), AgentAudio(b"a"), AgentAudioDone())
        await rig.leg.wait_for_finished_turns(1)
        rig.agent.emit(UserStartedSpeaking(), AgentAudio(b"b"))
        await rig.leg.wait_for_played(2)
        assert rig.leg.writes[2] == ("interrupt",)
        assert rig.session.stats.barge_ins == 1


async def test_the_caller_speaking_when_nothing_is_playing_is_not_a_barge_in() -> None:
    async with running_session() as rig:
        rig.agent.emit(UserStartedSpeaking(), Transcript("assistant", "Hello"))
        rig.agent.emit(AgentAudio(b"a"), AgentAudioDone())
        await rig.leg.wait_for_finished_turns(1)
        rig.leg.play_out()
        rig.leg.say(b"after the mark")  # the caller pump handles events in order
        await rig.agent.wait_for_audio(1)
        rig.agent.emit(UserStartedSpeaking(), AgentAudio(b"b"))
        await rig.leg.wait_for_played(2)
        assert rig.session.stats.barge_ins == 0
        assert not rig.session.call.turns[-1].interrupted


# --- tools -------------------------------------------------------------------------


async def test_a_slow_tool_does_not_stall_audio_and_its_result_carries_the_request_id() -> None:
    async with running_session() as rig:
        rig.agent.emit(ToolCallRequested("fc-1", "wait_for_gate", booking_arguments()))
        await rig.tools.entered.wait()

        rig.leg.say(b"caller while the tool runs")
        rig.agent.emit(AgentAudio(b"one moment please"))
        await rig.agent.wait_for_audio(1)
        await rig.leg.wait_for_played(1)
        assert rig.agent.tool_results == []

        rig.tools.gate.set()
        await rig.agent.wait_for_tool_results(1)
        (result,) = rig.agent.tool_results
        assert (result.call_id, result.name) == ("fc-1", "wait_for_gate")
        assert json.loads(result.content)["ok"] is True
        assert rig.session.stats.tool_calls == 1
        assert rig.session.call.tool_invocations[0].outcome == "ok"


async def test_a_tool_that_raises_sends_an_error_result_and_the_call_goes_on() -> None:
    async with running_session() as rig:
        rig.agent.emit(ToolCallRequested("fc-9", "explode", "{}"))
        await rig.agent.wait_for_tool_results(1)
        (result,) = rig.agent.tool_results
        assert result.call_id == "fc-9"
        assert json.loads(result.content)["error"] == "internal_error"
        assert rig.session.call.tool_invocations[0].outcome == "internal_error"

        rig.leg.say(b"still here")
        rig.agent.emit(AgentAudio(b"sorry about that"))
        await rig.agent.wait_for_audio(1)
        await rig.leg.wait_for_played(1)
        assert not rig.task.done()


async def test_a_tool_that_takes_too_long_gets_a_timeout_result() -> None:
    limits = dataclasses.replace(FAST, tool_timeout_s=0.01)
    async with running_session(limits=limits) as rig:
        rig.agent.emit(ToolCallRequested("fc-2", "wait_for_gate", booking_arguments()))
        await rig.agent.wait_for_tool_results(1)
        assert json.loads(rig.agent.tool_results[0].content)["error"] == "timeout"
        assert rig.tools.cancelled


# --- ending ------------------------------------------------------------------------


async def test_end_call_waits_for_the_goodbye_to_play_then_hangs_up_and_saves_the_record() -> None:
    async with running_session() as rig:
        rig.agent.emit(ToolCallRequested("fc-3", "end_call", "{}"))
        await rig.agent.wait_for_tool_results(1)
        assert rig.agent.tool_results[0].call_id == "fc-3"
        assert json.loads(rig.agent.tool_results[0].content)["ok"] is True

        rig.agent.emit(Transcript("assistant", "Goodbye!"), AgentAudio(b"bye"), AgentAudioDone())
        await rig.leg.wait_for_finished_turns(1)
        assert not rig.leg.ended

        rig.leg.play_out()
        call = await rig.finished()
        assert rig.leg.ended
        assert rig.agent.closed
        assert (call.next_step, call.end_reason) == (NextStep.HANG_UP, EndReason.AGENT_ENDED)
        stored = rig.stored
        assert stored.status is CallStatus.ENDED
        assert (stored.next_step, stored.end_reason) == (NextStep.HANG_UP, EndReason.AGENT_ENDED)
        assert [t.text for t in stored.turns] == ["Goodbye!"]
        assert [i.name for i in stored.tool_invocations] == ["end_call"]


async def test_transfer_to_human_ends_the_call_with_a_transfer_once_the_goodbye_played() -> None:
    practice = dataclasses.replace(make_practice(), front_desk_phone="+12125550199")
    async with running_session(practice=practice) as rig:
        rig.agent.emit(ToolCallRequested("fc-4", "transfer_to_human", '{"reason": "billing"}'))
        await rig.agent.wait_for_tool_results(1)
        rig.agent.emit(AgentAudio(b"transferring you"), AgentAudioDone())
        await rig.leg.wait_for_finished_turns(1)
        rig.leg.play_out()
        call = await rig.finished()
        assert (call.next_step, call.end_reason) == (NextStep.TRANSFER, EndReason.TRANSFERRED)
        assert rig.stored.next_step is NextStep.TRANSFER


async def test_a_goodbye_that_never_plays_ends_the_call_after_the_goodbye_timeout() -> None:
    limits = dataclasses.replace(FAST, goodbye_timeout_s=0.01)
    async with running_session(limits=limits) as rig:
        rig.agent.emit(ToolCallRequested("fc-5", "end_call", "{}"))
        rig.agent.emit(AgentAudio(b"bye"), AgentAudioDone())
        call = await rig.finished()
        assert call.end_reason is EndReason.AGENT_ENDED
        assert rig.leg.ended


async def goodbye_played_then_end_call(rig: Rig) -> None:
    """The agent says goodbye, it plays, and only then does the agent ask to end the call."""
    rig.agent.emit(Transcript("assistant", "Goodbye!"), AgentAudio(b"bye"), AgentAudioDone())
    await rig.leg.wait_for_finished_turns(1)
    rig.leg.play_out()
    rig.agent.emit(ToolCallRequested("fc-20", "end_call", "{}"))


async def test_a_goodbye_said_before_end_call_hangs_up_once_the_grace_passes_in_silence() -> None:
    limits = dataclasses.replace(FAST, goodbye_timeout_s=30, goodbye_grace_s=0.05)
    async with running_session(limits=limits) as rig:
        await goodbye_played_then_end_call(rig)
        call = await rig.finished()  # within 3 s: not after the 30 s goodbye timeout
        assert (call.next_step, call.end_reason) == (NextStep.HANG_UP, EndReason.AGENT_ENDED)
        assert rig.leg.ended


async def test_a_goodbye_said_before_end_call_still_waits_for_a_turn_started_in_the_grace() -> None:
    limits = dataclasses.replace(FAST, goodbye_timeout_s=30, goodbye_grace_s=30)
    async with running_session(limits=limits) as rig:
        await goodbye_played_then_end_call(rig)
        await rig.agent.wait_for_tool_results(1)
        rig.agent.emit(AgentAudio(b"have a nice day"), AgentAudioDone())
        await rig.leg.wait_for_finished_turns(2)
        assert not rig.leg.ended  # the second goodbye has not played yet
        rig.leg.play_out()
        call = await rig.finished()
        assert (call.next_step, call.end_reason) == (NextStep.HANG_UP, EndReason.AGENT_ENDED)
        assert rig.leg.played == [b"bye", b"have a nice day"]


async def test_a_turn_announced_in_the_grace_is_waited_for_even_if_its_audio_is_late() -> None:
    limits = dataclasses.replace(FAST, goodbye_timeout_s=30, goodbye_grace_s=0.05)
    async with running_session(limits=limits) as rig:
        await goodbye_played_then_end_call(rig)
        await rig.agent.wait_for_tool_results(1)
        rig.agent.emit(AgentStartedSpeaking(total_latency_s=None))
        with pytest.raises(TimeoutError):  # the grace passes, and the call goes on
            async with asyncio.timeout(0.5):
                await rig.leg.wait_ended()
        rig.agent.emit(AgentAudio(b"have a nice day"), AgentAudioDone())
        await rig.leg.wait_for_finished_turns(2)
        rig.leg.play_out()
        call = await rig.finished()
        assert call.end_reason is EndReason.AGENT_ENDED
        assert rig.leg.played == [b"bye", b"have a nice day"]


async def test_a_caller_hang_up_ends_the_session_and_leaves_no_task_behind() -> None:
    before = asyncio.all_tasks()
    async with running_session() as rig:
        rig.agent.emit(Transcript("assistant", "Hello"), AgentAudio(b"hi"))
        await rig.leg.wait_for_played(1)
        rig.leg.hang_up()
        call = await rig.finished()
        assert call.end_reason is EndReason.CALLER_HUNG_UP
        assert rig.agent.closed
        assert rig.leg.ended
        assert rig.stored.end_reason is EndReason.CALLER_HUNG_UP
        assert rig.stored.ended_at == NOW
    assert asyncio.all_tasks() == before


async def test_an_agent_failure_ends_the_call_with_the_fallback_step() -> None:
    async with running_session(fallback_step=NextStep.TRANSFER) as rig:
        rig.agent.fail("socket closed")
        call = await rig.finished()
        assert (call.end_reason, call.next_step) == (EndReason.AGENT_FAILED, NextStep.TRANSFER)
        assert rig.stored.end_reason is EndReason.AGENT_FAILED
        assert rig.leg.ended


async def test_a_bug_in_a_pump_ends_the_call_with_the_fallback_step() -> None:
    async with running_session(fallback_step=NextStep.TRANSFER) as rig:

        async def broken_play(audio: bytes) -> None:
            raise RuntimeError("a bug in the telephony adapter")

        rig.leg.play = broken_play  # type: ignore[method-assign]
        rig.agent.emit(AgentAudio(b"hi"))
        call = await rig.finished()
        assert (call.end_reason, call.next_step) == (EndReason.INTERNAL_ERROR, NextStep.TRANSFER)
        assert (rig.stored.end_reason, rig.stored.next_step) == (
            EndReason.INTERNAL_ERROR,
            NextStep.TRANSFER,
        )
        assert rig.leg.ended
        assert rig.agent.closed


async def test_an_agent_failure_after_the_caller_hung_up_leaves_the_next_step_alone() -> None:
    async with running_session(fallback_step=NextStep.TRANSFER) as rig:
        rig.leg.hang_up()
        rig.agent.fail("socket closed")  # taken while the session is ending
        call = await rig.finished()
        assert (call.end_reason, call.next_step) == (EndReason.CALLER_HUNG_UP, NextStep.HANG_UP)
        assert (rig.stored.end_reason, rig.stored.next_step) == (
            EndReason.CALLER_HUNG_UP,
            NextStep.HANG_UP,
        )


async def test_an_agent_failure_after_the_goodbye_played_still_hangs_up() -> None:
    async with running_session() as rig:
        rig.agent.emit(ToolCallRequested("fc-14", "end_call", "{}"))
        await rig.agent.wait_for_tool_results(1)
        rig.agent.emit(AgentAudio(b"bye"), AgentAudioDone())
        await rig.leg.wait_for_finished_turns(1)
        rig.leg.play_out()
        await rig.session._ended.wait()  # the goodbye has played: the call is ending
        rig.agent.fail("socket closed")  # e.g. the agent's socket closing after it
        call = await rig.finished()
        assert (call.end_reason, call.next_step) == (EndReason.AGENT_ENDED, NextStep.HANG_UP)
        assert rig.stored.next_step is NextStep.HANG_UP


async def test_an_agent_stream_that_just_ends_counts_as_an_agent_failure() -> None:
    async with running_session() as rig:
        await rig.agent.close()
        call = await rig.finished()
        assert (call.end_reason, call.next_step) == (EndReason.AGENT_FAILED, NextStep.APOLOGISE)


async def test_a_hang_up_during_a_booking_lets_it_commit_and_records_it() -> None:
    before = asyncio.all_tasks()
    async with running_session() as rig:
        rig.agent.emit(ToolCallRequested("fc-6", "wait_for_gate", booking_arguments()))
        await rig.tools.entered.wait()
        rig.leg.hang_up()
        await rig.leg.wait_until(lambda: rig.leg.hang_up_delivered)
        rig.tools.gate.set()
        call = await rig.finished()
        assert call.end_reason is EndReason.CALLER_HUNG_UP
        (booked,) = rig.store.appointments.values()
        assert booked.status is AppointmentStatus.BOOKED
        assert [i.outcome for i in rig.stored.tool_invocations] == ["ok"]
    assert asyncio.all_tasks() == before


async def test_a_hang_up_during_a_stuck_tool_cancels_it_after_the_drain_limit() -> None:
    before = asyncio.all_tasks()
    limits = dataclasses.replace(FAST, tool_drain_timeout_s=0.01)
    async with running_session(limits=limits) as rig:
        rig.agent.emit(ToolCallRequested("fc-7", "wait_for_gate", booking_arguments()))
        await rig.tools.entered.wait()
        rig.leg.hang_up()
        call = await rig.finished()
        assert rig.tools.cancelled
        assert call.end_reason is EndReason.CALLER_HUNG_UP
        assert rig.stored.status is CallStatus.ENDED
        assert rig.store.appointments == {}
        assert rig.agent.tool_results == []
    assert asyncio.all_tasks() == before


async def test_an_end_call_that_finishes_after_a_hang_up_does_not_hold_up_the_session() -> None:
    limits = dataclasses.replace(FAST, goodbye_timeout_s=30)
    async with running_session(limits=limits) as rig:
        rig.tools.real = _EndCallAfterGate(rig.tools.real)  # type: ignore[assignment]
        rig.agent.emit(ToolCallRequested("fc-8", "wait_for_gate", "{}"))
        await rig.tools.entered.wait()
        rig.leg.hang_up()
        await rig.leg.wait_until(lambda: rig.leg.hang_up_delivered)
        rig.tools.gate.set()
        call = await rig.finished()  # well within the 30 s goodbye timeout
        assert call.end_reason is EndReason.CALLER_HUNG_UP


class _EndCallAfterGate:
    def __init__(self, real: ReceptionistTools) -> None:
        self.real = real

    async def invoke(self, name: str, arguments: str, context: CallContext) -> ToolOutcome:
        return await self.real.invoke("end_call", arguments, context)


async def test_the_call_record_turns_come_from_transcripts() -> None:
    async with running_session() as rig:
        rig.agent.emit(
            Transcript("assistant", "Hello, Test Dental."),
            Transcript("user", "I need a cleaning."),
            Transcript("assistant", "Which day suits you?"),
        )
        rig.agent.emit(AgentAudio(b"x"))
        await rig.leg.wait_for_played(1)
        rig.leg.hang_up()
        await rig.finished()
        turns = rig.stored.turns
        assert [(t.speaker, t.text) for t in turns] == [
            (Speaker.AGENT, "Hello, Test Dental."),
            (Speaker.CALLER, "I need a cleaning."),
            (Speaker.AGENT, "Which day suits you?"),
        ]
        assert all(t.at == NOW for t in turns)


async def test_a_call_longer_than_the_limit_is_ended() -> None:
    limits = dataclasses.replace(FAST, max_call_s=0.01)
    async with running_session(limits=limits) as rig:
        call = await rig.finished()
        assert call.end_reason is EndReason.TIME_LIMIT
        assert call.next_step is NextStep.APOLOGISE
        assert rig.leg.ended
        assert rig.agent.closed


async def test_a_call_cancelled_by_the_server_stopping_is_finalised_for_the_front_desk() -> None:
    async with running_session() as rig:
        rig.agent.emit(AgentAudio(b"hello"))
        await rig.leg.wait_for_played(1)  # the call is under way
        rig.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await rig.finished()
        assert rig.stored.end_reason is EndReason.SHUTDOWN
        assert rig.stored.next_step is NextStep.APOLOGISE
        assert rig.leg.ended
        assert rig.agent.closed


class Outage:
    """The database, as the session's record sees it: `StorageUnavailable` while `down`."""

    def __init__(self) -> None:
        self.down = True
        self.attempts = 0

    def over(self, store: InMemoryStore) -> UnitOfWorkFactory:
        working = fake_unit_of_work_factory(store)

        def unit_of_work() -> UnitOfWork:
            self.attempts += 1
            if self.down:
                raise StorageUnavailable()
            return working()

        return unit_of_work


RETRYING = dataclasses.replace(FAST, record_retry_s=30, record_retry_backoff_s=0.001)


async def test_a_record_the_database_refused_is_saved_once_it_returns_after_the_leg_closed() -> (
    None
):
    outage = Outage()
    async with running_session(limits=RETRYING, outage=outage) as rig:
        rig.leg.hang_up()
        await rig.leg.wait_ended()  # Twilio gets the stream back while the record waits
        assert not rig.task.done()
        assert rig.stored.status is CallStatus.IN_PROGRESS
        outage.down = False
        call = await rig.finished()
        assert outage.attempts >= 2
        assert rig.stored.status is CallStatus.ENDED
        assert rig.stored.end_reason is call.end_reason is EndReason.CALLER_HUNG_UP


async def test_a_record_still_refused_after_the_retry_limit_is_logged_as_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limits = dataclasses.replace(FAST, record_retry_s=0.05, record_retry_backoff_s=0.001)
    async with running_session(limits=limits, outage=Outage()) as rig:
        rig.leg.hang_up()
        call = await rig.finished()
        assert call.end_reason is EndReason.CALLER_HUNG_UP
        assert rig.leg.ended
        assert rig.stored.status is CallStatus.IN_PROGRESS
    assert any("call record lost" in r.getMessage() for r in caplog.records)


# --- agent recovery ----------------------------------------------------------------

RECOVERING = dataclasses.replace(
    FAST,
    agent_recovery=RecoveryLimits(
        max_attempts=3, budget_s=2, backoff_s=0.001, silence_timeout_s=5, buffer_bytes=6
    ),
)


def recovering(**changes: float) -> SessionLimits:
    return dataclasses.replace(
        RECOVERING, agent_recovery=dataclasses.replace(RECOVERING.agent_recovery, **changes)
    )


async def test_a_failed_agent_is_reopened_with_the_conversation_so_far_and_no_greeting() -> None:
    voice, observer = FakeVoiceAgent(), RecordingObserver()
    async with running_session(limits=RECOVERING, voice=voice, observer=observer) as rig:
        rig.agent.emit(
            Transcript("assistant", "Hello, Test Dental."),
            Transcript("user", "I need a cleaning."),
            Transcript("assistant", "Which day suits you?"),
        )
        rig.agent.fail("socket closed (code 1006)")
        resumed = await voice.wait_connected()
        (profile,) = voice.profiles
        assert profile.greeting is None
        assert list(profile.history) == [
            HistoryItem("assistant", "Hello, Test Dental."),
            HistoryItem("user", "I need a cleaning."),
            HistoryItem("assistant", "Which day suits you?"),
        ]
        assert rig.agent.closed

        resumed.emit(AgentAudio(b"back"), Transcript("assistant", "Tuesday works."))
        await rig.leg.wait_for_played(1)
        rig.leg.say(b"yes")
        await resumed.wait_for_audio(1)
        assert rig.session.stats.agent_reconnects == 1
        assert AgentReconnected(1, "socket closed (code 1006)") in observer.events
        rig.leg.hang_up()
        call = await rig.finished()
        assert call.end_reason is EndReason.CALLER_HUNG_UP
        assert resumed.closed
        assert [t.text for t in rig.stored.turns][-1] == "Tuesday works."


async def test_caller_audio_during_the_gap_reaches_the_new_connection_in_order() -> None:
    gate = asyncio.Event()
    voice = FakeVoiceAgent(gate=gate)
    async with running_session(limits=recovering(buffer_bytes=6), voice=voice) as rig:
        rig.leg.say(b"00")
        await rig.agent.wait_for_audio(1)
        rig.agent.fail()
        await voice.wait_for_attempts(1)
        rig.leg.say(b"11", b"22", b"33", b"44")  # 8 bytes: the oldest frame is dropped
        await rig.leg.wait_handled(5)
        gate.set()
        resumed = await voice.wait_connected()
        rig.leg.say(b"55")
        await resumed.wait_for_audio(4)
        assert resumed.audio == [b"22", b"33", b"44", b"55"]
        assert rig.agent.audio == [b"00"]


async def test_the_result_of_a_tool_the_dead_connection_asked_for_is_dropped() -> None:
    voice = FakeVoiceAgent()
    async with running_session(limits=RECOVERING, voice=voice) as rig:
        rig.agent.emit(ToolCallRequested("fc-10", "wait_for_gate", booking_arguments()))
        await rig.tools.entered.wait()
        rig.agent.fail()
        resumed = await voice.wait_connected()
        rig.tools.gate.set()
        await asyncio.gather(*rig.session._tool_tasks)
        assert resumed.tool_results == []
        assert rig.agent.tool_results == []
        assert [i.outcome for i in rig.session.call.tool_invocations] == ["ok"]

        resumed.emit(ToolCallRequested("fc-11", "explode", "{}"))
        await resumed.wait_for_tool_results(1)
        assert resumed.tool_results[0].call_id == "fc-11"


async def test_after_three_refused_reconnects_the_call_ends_with_the_fallback_step() -> None:
    voice, observer = FakeVoiceAgent(unavailable=True), RecordingObserver()
    async with running_session(
        limits=RECOVERING, voice=voice, observer=observer, fallback_step=NextStep.TRANSFER
    ) as rig:
        rig.agent.fail("socket closed")
        call = await rig.finished()
        assert len(voice.profiles) == 3
        assert (call.end_reason, call.next_step) == (EndReason.AGENT_FAILED, NextStep.TRANSFER)
        assert (rig.stored.end_reason, rig.stored.next_step) == (
            EndReason.AGENT_FAILED,
            NextStep.TRANSFER,
        )
        assert rig.leg.ended
        assert rig.session.stats.agent_reconnects == 0
        assert not any(isinstance(e, AgentReconnected) for e in observer.events)


async def test_new_connections_that_fail_before_saying_anything_count_as_failed_attempts() -> None:
    def fail_at_once(connection: FakeAgentConnection) -> None:
        connection.emit(AgentReady())
        connection.fail("Settings refused")

    voice = FakeVoiceAgent(on_connect=fail_at_once)
    async with running_session(limits=RECOVERING, voice=voice) as rig:
        rig.agent.fail()
        call = await rig.finished()
        assert len(voice.connections) == 3
        assert all(c.closed for c in voice.connections)
        assert call.end_reason is EndReason.AGENT_FAILED


async def test_a_reconnect_that_outlasts_the_budget_gives_up() -> None:
    voice = FakeVoiceAgent(gate=asyncio.Event())  # never opens
    async with running_session(limits=recovering(budget_s=0.05), voice=voice) as rig:
        rig.agent.fail()
        call = await rig.finished()
        assert len(voice.profiles) == 1
        assert (call.end_reason, call.next_step) == (EndReason.AGENT_FAILED, NextStep.APOLOGISE)


async def test_one_refused_reconnect_is_retried() -> None:
    voice = FakeVoiceAgent(refusals=1)
    async with running_session(limits=RECOVERING, voice=voice) as rig:
        rig.agent.fail()
        resumed = await voice.wait_connected()
        resumed.emit(AgentAudio(b"back"))
        await rig.leg.wait_for_played(1)
        assert len(voice.profiles) == 2
        assert rig.session.stats.agent_reconnects == 1


async def test_an_agent_silent_after_the_callers_turn_is_reopened() -> None:
    voice = FakeVoiceAgent()
    async with running_session(limits=recovering(silence_timeout_s=0.05), voice=voice) as rig:
        rig.agent.emit(Transcript("user", "Hello?"))
        resumed = await voice.wait_connected()
        resumed.emit(AgentAudio(b"sorry, go on"))
        await rig.leg.wait_for_played(1)
        assert rig.agent.closed
        assert list(voice.profiles[0].history) == [HistoryItem("user", "Hello?")]
        assert rig.session.stats.agent_reconnects == 1


async def test_an_agent_silent_after_a_tool_result_is_reopened() -> None:
    voice = FakeVoiceAgent()
    async with running_session(limits=recovering(silence_timeout_s=0.05), voice=voice) as rig:
        rig.agent.emit(ToolCallRequested("fc-12", "explode", "{}"))
        resumed = await voice.wait_connected()
        resumed.emit(AgentAudio(b"sorry, go on"))
        await rig.leg.wait_for_played(1)
        assert len(rig.agent.tool_results) == 1
        assert rig.session.stats.agent_reconnects == 1


async def test_an_agent_that_answers_the_caller_in_time_is_not_reopened() -> None:
    voice = FakeVoiceAgent()
    async with running_session(limits=recovering(silence_timeout_s=0.05), voice=voice) as rig:
        rig.agent.emit(Transcript("user", "Hello?"), AgentStartedSpeaking(0.3))
        rig.agent.emit(Transcript("assistant", "Hi!"), AgentAudio(b"hi"), AgentAudioDone())
        await rig.leg.wait_for_finished_turns(1)
        rig.leg.hang_up()
        await rig.finished()
        assert voice.profiles == []


async def test_tool_calls_and_their_results_are_part_of_the_restored_history() -> None:
    voice = FakeVoiceAgent()
    async with running_session(limits=RECOVERING, voice=voice) as rig:
        rig.agent.emit(
            Transcript("user", "Book me in."), ToolCallRequested("fc-13", "explode", "{}")
        )
        await rig.agent.wait_for_tool_results(1)
        rig.agent.emit(Transcript("assistant", "Sorry about that."))
        rig.agent.fail()
        await voice.wait_connected()
        assert list(voice.profiles[0].history) == [
            HistoryItem("user", "Book me in."),
            ToolCallHistory("fc-13", "explode", "{}", rig.agent.tool_results[0].content),
            HistoryItem("assistant", "Sorry about that."),
        ]
