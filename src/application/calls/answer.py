"""`AnswerCall`: from an opened media stream to a finished call session."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from application.calls.admission import IncomingCall, OpenStreamHandler
from application.calls.agent_link import History, Reconnect
from application.calls.briefing import BriefAgent, Briefing, caller_phone
from application.calls.events import CallEnded, CallObserver
from application.calls.limits import SessionLimits
from application.calls.outcome import outcome_for
from application.calls.session import CallSession
from application.calls.warm_agents import HeldConnection, WarmAgents
from application.errors import StorageUnavailable
from application.ports import (
    AgentConnection,
    AgentProfile,
    AgentUnavailable,
    AudioFormat,
    CallLeg,
    CallOutcome,
    Clock,
    UnitOfWorkFactory,
    VoiceAgent,
)
from application.receptionist.tools import CallContext, ReceptionistTools
from domain.calls import Call, EndReason, NextStep, StreamRefused
from domain.scheduling import Practice

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerCall:
    """Claim the stream, brief the agent on the caller, and run the session.

    A refused stream is closed without ever contacting the voice agent. An agent that
    cannot be reached ends the call with an apology (and a transfer, when the practice
    has a front desk) recorded as the next step. An agent that fails mid-call is
    re-opened with the same profile, the conversation so far as its history, and no
    greeting (see `AgentLink`).

    `prepare`, when the call is admitted, opens the agent's conversation before the
    stream arrives (`WarmAgents`); the stream takes it once its token is accepted, and
    connects one itself when none is ready. Either way the call opens with the greeting
    as ready-made audio when `brief` has it (see `BriefAgent`).
    """

    practice: Practice
    uow: UnitOfWorkFactory
    clock: Clock
    voice_agent: VoiceAgent
    tools: ReceptionistTools
    open_stream: OpenStreamHandler
    limits: SessionLimits
    brief: BriefAgent | None = None
    """What the agent is told and the caller hears first; None: the practice's profile
    with the agent's own greeting."""
    observer: CallObserver | None = None
    """Told what happens on each call (transcript, tools, end); nobody by default."""
    warm: WarmAgents | None = None
    """Where `prepare` keeps conversations opened ahead of their stream; None: none are."""

    def prepare(self, incoming: IncomingCall) -> None:
        """The call has been admitted: brief and connect its agent in the background."""
        if self.warm is None:
            return

        def brief() -> Awaitable[Briefing]:
            return self._briefer(incoming.from_number, incoming.audio, synthesise=True)

        self.warm.prepare(
            call_key(incoming.carrier, incoming.carrier_call_id), incoming.audio, brief
        )

    def forget(self, carrier: str, carrier_call_id: str) -> None:
        """The call is over: a conversation prepared for it and never taken is closed."""
        if self.warm is not None:
            self.warm.discard(call_key(carrier, carrier_call_id))

    @property
    def _briefer(self) -> BriefAgent:
        if self.brief is not None:
            return self.brief
        return BriefAgent(practice=self.practice, clock=self.clock, tools=self.tools)

    @property
    def fallback_step(self) -> NextStep:
        """When the agent cannot go on: APOLOGISE, which says sorry, then puts the caller
        through to the front desk when the practice has one, else hangs up (a plain
        TRANSFER would put the caller through with no word of what went wrong)."""
        return NextStep.APOLOGISE

    async def __call__(
        self, leg: CallLeg, token: str, *, claimed: Callable[[Call], None] | None = None
    ) -> Call | None:
        """`claimed` is told once the stream has claimed its call (the token was good),
        before anything else happens: only from then on is the stream a call, with a
        place in the instance's capacity. A refused stream never reaches it."""
        try:
            call = await self.open_stream(leg.carrier, leg.carrier_call_id, token)
        except StreamRefused as exc:
            log.warning("media stream refused: %s", exc)
            await leg.end(self._outcome(NextStep.HANG_UP))
            return None
        except StorageUnavailable:
            # The token cannot be checked, so the stream is not a call. Ending it hands
            # the caller on with an apology (a carrier that asks what next finds the
            # database still out of reach and does the same).
            log.error("database unavailable: a media stream cannot be checked and is closed")
            await leg.end(self._outcome(NextStep.APOLOGISE))
            return None
        if claimed is not None:
            claimed(call)
        caller = caller_phone(call.from_number, self.practice.default_region)
        context = CallContext(call_id=call.id, caller_phone=caller)
        prepared: tuple[Briefing, AgentConnection] | None = None
        if self.warm is not None:
            prepared = await self.warm.take(
                call_key(leg.carrier, leg.carrier_call_id), leg.audio_format
            )
        if prepared is not None:
            briefing, connection = prepared
        else:
            briefing = await self._briefer(call.from_number, leg.audio_format, synthesise=False)
            if briefing.opening is not None:
                # The greeting is at hand: it plays while the agent opens, as it does for
                # one opened ahead (a failure to open then comes as `AgentFailed`).
                opening = self.voice_agent.connect(briefing.profile, leg.audio_format)
                connection = HeldConnection(asyncio.create_task(opening, name="agent-open"))
            else:
                try:
                    connection = await self.voice_agent.connect(briefing.profile, leg.audio_format)
                except AgentUnavailable as exc:
                    log.error("voice agent unavailable: %s", exc)
                    return await self._give_up(call, leg)
        profile = briefing.profile
        session = CallSession(
            call=call,
            leg=leg,
            agent=connection,
            tools=self.tools,
            context=context,
            uow=self.uow,
            clock=self.clock,
            limits=self.limits,
            fallback_step=self.fallback_step,
            front_desk_phone=self.practice.front_desk_phone,
            observer=self.observer,
            reconnect=self._reconnector(profile, leg.audio_format),
            opening=briefing.opening,
        )
        return await session.run()

    def _outcome(self, step: NextStep) -> CallOutcome:
        return outcome_for(step, self.practice.front_desk_phone)

    def _reconnector(self, profile: AgentProfile, audio: AudioFormat) -> Reconnect:
        async def reconnect(history: History) -> AgentConnection:
            said = (*profile.history, *history)
            # Nothing said yet (the first connection never spoke): the greeting is still due.
            resumed = replace(
                profile, greeting=profile.greeting if not said else None, history=said
            )
            return await self.voice_agent.connect(resumed, audio)

        return reconnect

    async def _give_up(self, call: Call, leg: CallLeg) -> Call:
        call.plan(self.fallback_step)
        call.end(EndReason.AGENT_UNAVAILABLE, self.clock.now())
        try:
            async with self.uow() as uow:
                await uow.calls.update(call)
                await uow.commit()
        finally:
            if self.observer is not None:
                self.observer.publish(
                    str(call.id),
                    CallEnded(
                        EndReason.AGENT_UNAVAILABLE, call.next_step, duration_s=call.elapsed_s
                    ),
                )
            await leg.end(self._outcome(call.next_step))
        return call


def call_key(carrier: str, carrier_call_id: str) -> str:
    return f"{carrier}:{carrier_call_id}"
