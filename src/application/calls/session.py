"""`CallSession`: one live call, bridging the caller's leg and the voice agent.

Two pumps move events; tools run as their own tasks so neither direction's audio ever
waits on the database. Exactly one task (the agent pump) writes to the caller's leg,
so a turn's audio, its end and interruptions keep their order; barge-in's `interrupt`
goes out before anything else the pump does for that event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from application.calls.agent_link import AgentLink, Reconnect
from application.calls.briefing import Opening
from application.calls.events import (
    AgentReconnected,
    BargedIn,
    CallEnded,
    CallObserver,
    NoObserver,
    SessionStats,
    ToolRan,
    TranscriptHeard,
)
from application.calls.final_record import FinalRecord
from application.calls.limits import SessionLimits
from application.calls.outcome import outcome_for
from application.calls.playback import Playback
from application.calls.tool_calls import ToolRunner, run_tool
from application.ports import (
    AgentAudio,
    AgentAudioDone,
    AgentConnection,
    AgentFailed,
    AgentStartedSpeaking,
    CallerAudio,
    CallerDtmf,
    CallerHungUp,
    CallLeg,
    CallOutcome,
    Clock,
    ToolCallRequested,
    Transcript,
    TurnPlayed,
    UnitOfWorkFactory,
    UserStartedSpeaking,
)
from application.receptionist.tools import CallContext
from domain.calls import Call, EndReason, NextStep, Speaker, ToolInvocation, Turn

log = logging.getLogger(__name__)

_OPENING_CHUNK_MS = 100
"""The opening is queued in pieces of this length, as the agent sends its audio."""

_END_REASON_FOR_STEP = {
    NextStep.HANG_UP: EndReason.AGENT_ENDED,
    NextStep.TRANSFER: EndReason.TRANSFERRED,
}


class CallSession:
    """Runs one call to its end and leaves the record finalised, whatever happens."""

    def __init__(
        self,
        *,
        call: Call,
        leg: CallLeg,
        agent: AgentConnection,
        tools: ToolRunner,
        context: CallContext,
        uow: UnitOfWorkFactory,
        clock: Clock,
        limits: SessionLimits | None = None,
        fallback_step: NextStep = NextStep.APOLOGISE,
        front_desk_phone: str | None = None,
        observer: CallObserver | None = None,
        reconnect: Reconnect | None = None,
        opening: Opening | None = None,
    ) -> None:
        """`reconnect` re-opens the agent with the conversation so far when it fails
        mid-call; without it, the first failure ends the call. `front_desk_phone` is
        where a transfer (or an apology) puts the caller through. `opening` is played
        first, as the agent's first turn (a greeting the agent was told it has said)."""
        self._call, self._leg = call, leg
        self._tools, self._context, self._clock = tools, context, clock
        self._limits = limits or SessionLimits()
        self._agent = AgentLink(agent, reconnect=reconnect, limits=self._limits.agent_recovery)
        self._fallback_step = fallback_step
        self._front_desk_phone = front_desk_phone
        self._key = str(call.id)
        self._record = FinalRecord(
            uow,
            clock,
            retry_s=self._limits.record_retry_s,
            backoff_s=self._limits.record_retry_backoff_s,
        )
        self._observer: CallObserver = observer or NoObserver()
        self._opening = opening
        self.stats = SessionStats()
        self._end_reason: EndReason | None = None
        self._tool_tasks: set[asyncio.Task[None]] = set()
        self._finisher: asyncio.Task[None] | None = None
        self._playback = Playback()
        self._ended = asyncio.Event()
        """Set by `_end`: wakes `run` whichever task decided the call is over."""

    @property
    def call(self) -> Call:
        return self._call

    async def run(self) -> Call:
        """Run until the caller hangs up, the agent fails, or a goodbye/transfer plays."""
        caller = asyncio.create_task(self._caller_pump(), name=f"caller-pump-{self._key}")
        agent = asyncio.create_task(self._agent_pump(), name=f"agent-pump-{self._key}")
        # The finisher ends the call without ending a pump, and it starts after `run` is
        # already waiting: without this wake-up, the call outlives its goodbye.
        ended = asyncio.create_task(self._ended.wait(), name=f"call-ended-{self._key}")
        watched: set[asyncio.Task[None]] = {caller, agent}
        try:
            while not self._end_reason:
                if self._finisher is not None:
                    watched.add(self._finisher)
                done, _ = await asyncio.wait(
                    {*watched, ended},
                    timeout=self._limits.max_call_s,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if not done:  # a person takes it from here
                    self._end(EndReason.TIME_LIMIT, self._fallback_step)
                for task in done:
                    watched.discard(task)
                    if task.exception() is not None:
                        log.error("call session task failed", exc_info=task.exception())
                        self._end(EndReason.INTERNAL_ERROR, self._fallback_step)
                if not watched:
                    self._end(EndReason.INTERNAL_ERROR, self._fallback_step)
        except asyncio.CancelledError:
            # Cancelled from outside: the instance is stopping (drain timeout). The
            # caller goes on to the fallback (an apology, then the front desk) rather
            # than being cut off in silence.
            self._end(EndReason.SHUTDOWN, self._fallback_step)
            raise
        finally:
            ended.cancel()
            await asyncio.shield(self._finalise(caller, agent))
        return self._call

    # --- pumps -----------------------------------------------------------------

    async def _caller_pump(self) -> None:
        async for event in self._leg.events():
            match event:
                case CallerAudio(payload):
                    self.stats.frames_in += 1
                    await self._agent.send_audio(payload)
                case TurnPlayed(turn):
                    self._playback.turn_played(turn)
                case CallerDtmf(digit):
                    log.debug("caller pressed %s", digit)
                case CallerHungUp():
                    break
        self._end(EndReason.CALLER_HUNG_UP)

    async def _play_opening(self, opening: Opening) -> None:
        self._call.hear(Turn(Speaker.AGENT, opening.text, self._clock.now()))
        self._observer.publish(self._key, TranscriptHeard(Speaker.AGENT, opening.text))
        self._playback.audio_sent()  # the opening is the first turn
        step = self._leg.audio_format.frame_bytes(_OPENING_CHUNK_MS)
        audio = opening.audio
        for start in range(0, len(audio), step):
            await self._leg.play(audio[start : start + step])
        await self._finish_turn()

    async def _agent_pump(self) -> None:
        if self._opening is not None:
            await self._play_opening(self._opening)
        async for event in self._agent.events():
            match event:
                case AgentAudio(payload):
                    self.stats.frames_out += 1
                    self._playback.audio_sent()
                    await self._leg.play(payload)
                case UserStartedSpeaking():
                    await self._leg.interrupt()
                    self._on_barge_in()
                case Transcript(role, text):
                    speaker = Speaker.CALLER if role == "user" else Speaker.AGENT
                    self._call.hear(Turn(speaker, text, self._clock.now()))
                    self._observer.publish(self._key, TranscriptHeard(speaker, text))
                case ToolCallRequested():
                    self._start_tool(event)
                case AgentAudioDone():
                    await self._finish_turn()
                case AgentStartedSpeaking(latency_s):
                    self._playback.speaking_announced()
                    if latency_s is not None:
                        self.stats.agent_latencies_s.append(latency_s)
                case AgentReconnected():
                    self.stats.agent_reconnects += 1
                    self._observer.publish(self._key, event)
                    if self._playback.turn_open:  # the cut-off turn's AgentAudioDone never comes
                        await self._finish_turn()
                case AgentFailed(reason):
                    log.warning("voice agent failed: %s", reason)
                    self._end(EndReason.AGENT_FAILED, self._fallback_step)
                    return
        self._end(EndReason.AGENT_FAILED, self._fallback_step)

    # --- playback tracking -----------------------------------------------------

    async def _finish_turn(self) -> None:
        await self._leg.finish_turn(self._playback.finish_turn())

    def _on_barge_in(self) -> None:
        if self._playback.barge_in():
            self.stats.barge_ins += 1
            self._call.mark_last_agent_turn_interrupted()
            self._observer.publish(self._key, BargedIn())

    # --- tools -----------------------------------------------------------------

    def _start_tool(self, request: ToolCallRequested) -> None:
        self.stats.tool_calls += 1
        task = asyncio.create_task(self._run_tool(request), name=f"tool-{request.name}")
        self._tool_tasks.add(task)
        task.add_done_callback(self._tool_tasks.discard)

    async def _run_tool(self, request: ToolCallRequested) -> None:
        outcome, elapsed_ms = await run_tool(
            self._tools, request, self._context, timeout_s=self._limits.tool_timeout_s
        )
        self._call.record_tool(
            ToolInvocation(
                request.name,
                request.arguments,
                outcome.outcome,
                outcome.content,
                self._clock.now(),
                round(elapsed_ms, 2),
            )
        )
        self._observer.publish(
            self._key,
            ToolRan(request.name, request.arguments, outcome.outcome, round(elapsed_ms, 2)),
        )
        await self._agent.send_tool_result(request.call_id, request.name, outcome.content)
        # After the call has ended (a hang-up while this tool ran), nothing plays any more:
        # a finisher started now would only hold up `_finalise` for the goodbye timeout.
        if outcome.next_step is not None and self._finisher is None and not self._end_reason:
            self._call.plan(outcome.next_step)
            self._finisher = asyncio.create_task(self._finish_after_goodbye(outcome.next_step))

    async def _finish_after_goodbye(self, step: NextStep) -> None:
        """End once the agent's next turn (the goodbye) has played, or after a bound.

        A goodbye said before the request (everything played, and no new turn within
        `goodbye_grace_s`) ends the call then, rather than after `goodbye_timeout_s`."""
        loop = asyncio.get_running_loop()
        playback = self._playback
        target = playback.turns_done + 1
        started = playback.turns_started
        grace_ends = loop.time() + self._limits.goodbye_grace_s
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._limits.goodbye_timeout_s):
                while playback.turns_played < target:
                    nothing_new = playback.turns_started == started
                    grace_left = grace_ends - loop.time()
                    if nothing_new and grace_left <= 0 and playback.all_played():
                        break
                    playback.played.clear()
                    if nothing_new and grace_left > 0:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(playback.played.wait(), grace_left)
                    else:
                        await playback.played.wait()
        self._end(_END_REASON_FOR_STEP[step])

    # --- ending ----------------------------------------------------------------

    def _end(self, reason: EndReason, step: NextStep | None = None) -> None:
        """The first end decides: its reason, and `step` (when given) as the next step.

        A later end (the agent failing while a hang-up or a played goodbye is being
        wound up) changes neither, so the record's next step goes with its end reason."""
        if self._end_reason is None:
            self._end_reason = reason
            if step is not None:
                self._call.plan(step)
        self._ended.set()

    def _outcome(self) -> CallOutcome:
        return outcome_for(self._call.next_step, self._front_desk_phone)

    async def _finalise(self, caller: asyncio.Task[None], agent: asyncio.Task[None]) -> None:
        for task in (caller, agent, self._finisher):
            if task is not None:
                task.cancel()
        if self._tool_tasks:
            await asyncio.wait(set(self._tool_tasks), timeout=self._limits.tool_drain_timeout_s)
        for task in set(self._tool_tasks):
            task.cancel()
        pending = [t for t in (caller, agent, self._finisher, *self._tool_tasks) if t is not None]
        await asyncio.gather(*pending, return_exceptions=True)
        saved = False
        try:
            try:
                await self._agent.close()
            except Exception:
                log.exception("closing the voice agent connection failed")
            self._call.end(self._end_reason or EndReason.INTERNAL_ERROR, self._clock.now())
            saved = await self._record.save(self._call)
            reason = self._call.end_reason or EndReason.INTERNAL_ERROR
            self._observer.publish(
                self._key,
                CallEnded(reason, self._call.next_step, self.stats, self._call.elapsed_s),
            )
        finally:
            # Whatever failed above, the caller must be handed on (or hung up).
            await self._leg.end(self._outcome())
        if not saved:  # the caller has gone; the record waits for the database
            await self._record.save_when_storage_returns(self._call)
