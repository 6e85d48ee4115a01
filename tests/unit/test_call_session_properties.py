"""Property-based: `CallSession` under random interleavings of caller and agent events.

Hypothesis draws a script of events for both sides (audio, DTMF, marks the session
never sent or already had, barge-ins, transcripts, tool calls with good, bad and unknown
names and arguments, ignored agent events), then one way the call ends (the caller hangs
up, the agent fails or its stream just stops, the server stops, or nothing: the time
limit), then a few more events that race the ending. The test feeds the script one event
at a time, waiting until the session has taken each one (and each tool call has its
result), and keeps a model of what the session must have done so far. Nothing sleeps:
every wait is on a condition, bounded.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from application.calls.session import CallSession
from application.ports import (
    AgentAudio,
    AgentAudioDone,
    AgentEvent,
    AgentReady,
    AgentStartedSpeaking,
    CallerAudio,
    CallerDtmf,
    CallerEvent,
    ToolCallRequested,
    Transcript,
    TurnPlayed,
    UserStartedSpeaking,
)
from application.receptionist.tools import CallContext
from domain.calls import Call, CallStatus, EndReason, NextStep
from domain.scheduling import PhoneNumber
from tests.support.clock import FixedClock
from tests.support.fakes import FakeUnitOfWork, InMemoryStore
from tests.support.practice import NOW, make_practice
from tests.support.session_parts import (
    CALL_ID,
    CALLER,
    FAST,
    SID,
    GatedTools,
    live_call,
)
from tests.support.tools import make_tools
from tests.support.voice_fakes import FakeAgentConnection, FakeCallLeg

BOUND_S = 5.0
"""No scenario may take longer than this, however it ends."""
TIME_LIMITED = dataclasses.replace(FAST, max_call_s=0.05)
FALLBACK = NextStep.APOLOGISE
FRONT_DESK = "+12125550199"

# --- the script ------------------------------------------------------------------------


@dataclass(frozen=True)
class FromCaller:
    event: CallerEvent


@dataclass(frozen=True)
class PlayOut:
    """The leg finishes playing everything queued: each pending turn is reported played."""


@dataclass(frozen=True)
class FromAgent:
    event: AgentEvent


@dataclass(frozen=True)
class Tool:
    name: str
    arguments: str


Step = FromCaller | PlayOut | FromAgent | Tool

ENDINGS = ("caller hangs up", "agent fails", "agent stream ends", "server stops", "time limit")

_TOOLS = st.sampled_from(
    [
        Tool("end_call", "{}"),
        Tool("end_call", '{"now": true}'),  # unknown field: invalid arguments
        Tool("transfer_to_human", '{"reason": "billing"}'),
        Tool("transfer_to_human", '{"reason": 5}'),
        Tool("transfer_to_human", "not json"),
        Tool("check_available_slots", '{"service": "cleaning"}'),
        Tool("check_available_slots", '{"service": 7}'),
        Tool("book_appointment", "{}"),
        Tool("no_such_tool", "{}"),
        Tool("explode", "{}"),  # a tool with a bug: it raises
        Tool("", ""),
    ]
)
_TURNS = st.sampled_from([1, 2, 3, 0, -1, 99])
"""Turns a leg may report played: some sent, some never (a confused or hostile leg)."""
_STEPS: st.SearchStrategy[Step] = st.one_of(
    st.builds(FromCaller, st.builds(CallerAudio, st.binary(min_size=1, max_size=3))),
    st.builds(FromCaller, st.builds(CallerDtmf, st.sampled_from(["1", "#", "*", ""]))),
    st.builds(FromCaller, st.builds(TurnPlayed, _TURNS)),
    st.just(PlayOut()),
    st.builds(FromAgent, st.builds(AgentAudio, st.binary(min_size=1, max_size=3))),
    st.just(FromAgent(AgentAudioDone())),
    st.just(FromAgent(UserStartedSpeaking())),
    st.builds(
        FromAgent,
        st.builds(Transcript, st.sampled_from(["user", "assistant"]), st.text(max_size=5)),
    ),
    st.sampled_from(
        [
            FromAgent(AgentReady()),
            FromAgent(AgentStartedSpeaking(None)),
            FromAgent(AgentStartedSpeaking(0.3)),
        ]
    ),
    _TOOLS,
)

_GOODBYE = st.tuples(
    st.sampled_from([Tool("end_call", "{}"), Tool("transfer_to_human", '{"reason": "billing"}')]),
    st.builds(FromAgent, st.builds(AgentAudio, st.binary(min_size=1, max_size=3))),
    st.just(FromAgent(AgentAudioDone())),
    st.sampled_from([PlayOut(), FromAgent(UserStartedSpeaking())]),
)
"""A tool that ends the call, its goodbye, and the goodbye's mark coming back (played, or
cleared by a barge-in): generated often enough for the steps to interleave with it."""
_SCRIPTS = st.lists(st.one_of(_STEPS.map(lambda s: [s]), _GOODBYE.map(list)), max_size=12).map(
    lambda chunks: [step for chunk in chunks for step in chunk]
)


@dataclass(frozen=True)
class AgentFailsToo:
    """The agent fails as well, while the call is already ending."""


_RACING = st.one_of(_STEPS, st.just(AgentFailsToo()))


# --- the rig ---------------------------------------------------------------------------


class _SavesCounted(FakeUnitOfWork):
    """The in-memory unit of work, noting every call record it commits."""

    def __init__(self, store: InMemoryStore, saved: list[Call]) -> None:
        super().__init__(store)
        self._saved = saved

    async def commit(self) -> None:
        staged = [copy.deepcopy(c) for c in self._calls.staged.values()]
        await super().commit()
        self._saved.extend(staged)


@dataclass
class _Model:
    """What the session must have done, given the events it has taken so far."""

    agent_fed: int = 0
    caller_fed: int = 0
    turns_done: int = 0
    turns_played: int = 0
    unplayed: list[int] = dataclasses.field(default_factory=list)
    """Turns finished and not yet reported played by the fake leg (`play_out` and
    `interrupt` report them)."""
    pending: set[int] = dataclasses.field(default_factory=set)
    """Turns the session waits to hear played."""
    planned: tuple[NextStep, int] | None = None
    """The step a tool planned, and the turn whose playing ends the call."""
    ended_by: EndReason | None = None
    writes: list[tuple[object, ...]] = dataclasses.field(default_factory=list)
    caller_audio: list[bytes] = dataclasses.field(default_factory=list)
    answered: list[str] = dataclasses.field(default_factory=list)
    """Ids of tool calls that must have exactly one result."""


async def _until(condition: Callable[[], Awaitable[None]], run: asyncio.Task[Call]) -> None:
    """Wait for `condition` or for the session to end, whichever comes first."""
    waiting = asyncio.ensure_future(condition())
    try:
        await asyncio.wait({waiting, run}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)


_STEP_FOR_TOOL = {"end_call": NextStep.HANG_UP, "transfer_to_human": NextStep.TRANSFER}
_END_FOR_STEP = {NextStep.HANG_UP: EndReason.AGENT_ENDED, NextStep.TRANSFER: EndReason.TRANSFERRED}


def _plans(tool: Tool) -> NextStep | None:
    """The next step a tool call sets, when its arguments are good."""
    step = _STEP_FOR_TOOL.get(tool.name)
    if step is None:
        return None
    try:
        arguments = json.loads(tool.arguments)
    except ValueError:
        return None
    if tool.name == "end_call":
        return step if arguments == {} else None
    return step if isinstance(arguments.get("reason", ""), str) else None


class _Driver:
    def __init__(self, leg: FakeCallLeg, agent: FakeAgentConnection, run: asyncio.Task[Call]):
        self.leg, self.agent, self.run = leg, agent, run
        self.model = _Model()
        self.tool_ids: list[str] = []
        self.all_caller_audio: list[bytes] = []
        self.all_agent_writes: list[tuple[object, ...]] = []
        self._marks_projected = 0

    def _project(self, event: AgentEvent) -> None:
        """What the agent pump writes to the leg for `event`, in order, always."""
        match event:
            case AgentAudio(payload):
                self.all_agent_writes.append(("play", payload))
            case UserStartedSpeaking():
                self.all_agent_writes.append(("interrupt",))
            case AgentAudioDone():
                self._marks_projected += 1
                self.all_agent_writes.append(("finish_turn", self._marks_projected))

    def feed(self, step: Step, *, modelled: bool) -> None:
        """Hand `step` to the fakes; with `modelled`, also update the model."""
        m = self.model
        modelled = modelled and m.ended_by is None
        match step:
            case FromCaller(event):
                self.leg.send(event)
                m.caller_fed += 1
                if isinstance(event, CallerAudio):
                    self.all_caller_audio.append(event.payload)
                    if modelled:
                        m.caller_audio.append(event.payload)
                if isinstance(event, TurnPlayed) and modelled:
                    self._marked(event.turn)
            case PlayOut():
                echoed = self._echo_all()
                self.leg.play_out()
                for turn in echoed if modelled else ():
                    self._marked(turn)
            case FromAgent(event):
                self.agent.emit(event)
                m.agent_fed += 1
                self._project(event)
                if modelled:
                    self._agent_event(event)
            case Tool(name, arguments):
                call_id = f"fc-{len(self.tool_ids)}"
                self.tool_ids.append(call_id)
                self.agent.emit(ToolCallRequested(call_id, name, arguments))
                m.agent_fed += 1
                if modelled:
                    m.answered.append(call_id)
                    step_planned = _plans(step)
                    if step_planned is not None and m.planned is None:
                        m.planned = (step_planned, m.turns_done + 1)

    def _echo_all(self) -> list[int]:
        """The fake leg echoes every mark it was sent since the last echo, in order."""
        echoed, self.model.unplayed = self.model.unplayed, []
        self.model.caller_fed += len(echoed)
        return echoed

    def _marked(self, turn: int) -> None:
        m = self.model
        if turn in m.pending:
            m.pending.discard(turn)
            m.turns_played = max(m.turns_played, turn)
            if m.planned is not None and m.turns_played >= m.planned[1]:
                m.ended_by = _END_FOR_STEP[m.planned[0]]

    def _agent_event(self, event: AgentEvent) -> None:
        m = self.model
        match event:
            case AgentAudio(payload):
                m.writes.append(("play", payload))
            case UserStartedSpeaking():
                m.writes.append(("interrupt",))
                for turn in self._echo_all():
                    self._marked(turn)
            case AgentAudioDone():
                m.turns_done += 1
                m.writes.append(("finish_turn", m.turns_done))
                m.pending.add(m.turns_done)
                m.unplayed.append(m.turns_done)

    async def settle(self) -> None:
        """Wait until the session has taken everything fed, and answered every tool call
        the model expects answered (or the session is over)."""
        m = self.model
        await _until(lambda: self.agent.wait_handled(m.agent_fed), self.run)
        await _until(lambda: self.leg.wait_handled(m.caller_fed), self.run)
        answered = set(m.answered)
        await _until(
            lambda: self.agent.wait_until(
                lambda: answered <= {r.call_id for r in self.agent.tool_results}
            ),
            self.run,
        )


def _end(driver: _Driver, ending: str) -> None:
    match ending:
        case "caller hangs up":
            driver.leg.hang_up()
        case "agent fails":
            driver.agent.fail("emulated failure")
        case "agent stream ends":
            driver.agent.end_stream()
        case "server stops":
            driver.run.cancel()


_EXPECTED_END = {
    "caller hangs up": EndReason.CALLER_HUNG_UP,
    "agent fails": EndReason.AGENT_FAILED,
    "agent stream ends": EndReason.AGENT_FAILED,
    "server stops": EndReason.SHUTDOWN,
    "time limit": EndReason.TIME_LIMIT,
}


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    script=_SCRIPTS,
    ending=st.sampled_from(ENDINGS),
    racing=st.lists(_RACING, max_size=4),
)
async def test_a_session_under_any_event_order_ends_cleanly_and_consistently(
    script: list[Step], ending: str, racing: list[Step | AgentFailsToo]
) -> None:
    note(f"script={script!r} ending={ending!r} racing={racing!r}")
    before = asyncio.all_tasks()
    store, saved = InMemoryStore(), list[Call]()
    practice = dataclasses.replace(make_practice(), front_desk_phone=FRONT_DESK)
    call = live_call()
    store.calls[CALL_ID] = copy.deepcopy(call)
    leg, agent = FakeCallLeg(SID), FakeAgentConnection()
    session = CallSession(
        call=call,
        leg=leg,
        agent=agent,
        tools=GatedTools(make_tools(store, practice)),
        context=CallContext(call_id=CALL_ID, caller_phone=PhoneNumber(CALLER)),
        uow=lambda: _SavesCounted(store, saved),
        clock=FixedClock(NOW),
        limits=TIME_LIMITED if ending == "time limit" else FAST,
        fallback_step=FALLBACK,
    )
    run = asyncio.create_task(session.run())
    driver = _Driver(leg, agent, run)
    timed = ending == "time limit"  # the limit may strike anywhere: nothing is modelled

    async with asyncio.timeout(BOUND_S):
        # Once the caller pump has taken a first event, `run` is under way (a task
        # cancelled before it ever ran would not run its clean-up at all).
        driver.feed(FromCaller(CallerDtmf("0")), modelled=False)
        await driver.settle()
        for step in script:
            driver.feed(step, modelled=not timed)
            await driver.settle()
        model = driver.model  # what follows races the ending: it is not modelled
        _end(driver, ending)
        for step in racing:
            if isinstance(step, AgentFailsToo):
                driver.agent.fail("failed while the call was ending")
            else:
                driver.feed(step, modelled=False)
        try:
            finished = await run
        except asyncio.CancelledError:
            assert ending == "server stops"
            finished = session.call

    # It ended, saved its record once, and left nothing running.
    assert asyncio.all_tasks() == before
    assert leg.ended
    assert agent.closed
    assert leg.writes.count(("end",)) == 1
    assert leg.writes[-1] == ("end",)
    (record,) = saved
    assert record.status is CallStatus.ENDED
    assert record.end_reason is not None
    assert (record.end_reason, record.next_step) == (finished.end_reason, finished.next_step)
    stored = store.calls[CALL_ID]
    assert (stored.end_reason, stored.next_step) == (record.end_reason, record.next_step)

    # The end reason is what happened, and the next step goes with it.
    reason, step = record.end_reason, record.next_step
    if timed:
        possible = {EndReason.TIME_LIMIT, EndReason.AGENT_ENDED, EndReason.TRANSFERRED}
        if AgentFailsToo() in racing:  # fed before the limit struck
            possible.add(EndReason.AGENT_FAILED)
        assert reason in possible
    elif model.ended_by is not None:
        assert reason is model.ended_by
    else:
        assert reason is _EXPECTED_END[ending]
    if reason is EndReason.AGENT_ENDED:
        assert step is NextStep.HANG_UP
    elif reason is EndReason.TRANSFERRED:
        assert step is NextStep.TRANSFER
    elif reason is EndReason.CALLER_HUNG_UP:
        # What a tool planned before the hang-up stands; nothing else changes it.
        assert step is (model.planned[0] if model.planned else NextStep.HANG_UP)
    else:
        assert step is FALLBACK

    # Caller audio reached the agent in order: all of it while the call was up.
    assert agent.audio == driver.all_caller_audio[: len(agent.audio)]
    assert agent.audio[: len(model.caller_audio)] == model.caller_audio
    assert session.stats.frames_in == len(agent.audio)

    # The caller heard the agent's events in order: audio after a clear is only from
    # events after the barge-in, and every mark follows its turn's audio.
    written = leg.writes[:-1]
    assert written == driver.all_agent_writes[: len(written)]
    assert written[: len(model.writes)] == model.writes

    # Every tool call the session took before the end got exactly one result, its own.
    ids = [r.call_id for r in agent.tool_results]
    assert len(ids) == len(set(ids))
    assert set(ids) <= set(driver.tool_ids)
    assert set(model.answered) <= set(ids)
    assert len(record.tool_invocations) >= len(model.answered)
