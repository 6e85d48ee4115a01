"""`AnswerCall`: from an opened media stream to a finished call session."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from application.calls.admission import OpenStreamHandler
from application.calls.agent_link import History, Reconnect
from application.calls.events import CallEnded, CallObserver
from application.calls.limits import SessionLimits
from application.calls.outcome import outcome_for
from application.calls.session import CallSession
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
from application.receptionist.profile import receptionist_profile
from application.receptionist.tool_arguments import tool_catalogue
from application.receptionist.tools import CallContext, ReceptionistTools
from application.scheduling import FindAppointments
from domain.calls import Call, EndReason, NextStep, StreamRefused
from domain.scheduling import Appointment, AppointmentStatus, InvalidInput, PhoneNumber, Practice

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerCall:
    """Claim the stream, brief the agent on the caller, and run the session.

    A refused stream is closed without ever contacting the voice agent. An agent that
    cannot be reached ends the call with an apology (and a transfer, when the practice
    has a front desk) recorded as the next step. An agent that fails mid-call is
    re-opened with the same profile, the conversation so far as its history, and no
    greeting (see `AgentLink`).
    """

    practice: Practice
    uow: UnitOfWorkFactory
    clock: Clock
    voice_agent: VoiceAgent
    tools: ReceptionistTools
    open_stream: OpenStreamHandler
    limits: SessionLimits
    observer: CallObserver | None = None
    """Told what happens on each call (transcript, tools, end); nobody by default."""

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
        caller = _caller_phone(call.from_number, self.practice.default_region)
        context = CallContext(call_id=call.id, caller_phone=caller)
        profile = receptionist_profile(
            self.practice,
            now=self.clock.now(),
            tools=tool_catalogue(),
            caller_appointments=await self._upcoming(caller),
        )
        try:
            connection = await self.voice_agent.connect(profile, leg.audio_format)
        except AgentUnavailable as exc:
            log.error("voice agent unavailable: %s", exc)
            return await self._give_up(call, leg)
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
        )
        return await session.run()

    def _outcome(self, step: NextStep) -> CallOutcome:
        return outcome_for(step, self.practice.front_desk_phone)

    def _reconnector(self, profile: AgentProfile, audio: AudioFormat) -> Reconnect:
        async def reconnect(history: History) -> AgentConnection:
            resumed = replace(profile, greeting=None, history=tuple(history))
            return await self.voice_agent.connect(resumed, audio)

        return reconnect

    async def _upcoming(self, caller: PhoneNumber | None) -> Sequence[Appointment] | None:
        if caller is None:
            return None
        try:
            page = await self.tools.find_appointments(
                FindAppointments(
                    phone=caller.e164, status=AppointmentStatus.BOOKED, starts_from=self.clock.now()
                )
            )
        except StorageUnavailable:
            log.warning("could not look up the caller's appointments: database unavailable")
            return ()
        return page.items

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


def _caller_phone(raw: str, region: str) -> PhoneNumber | None:
    try:
        return PhoneNumber.parse(raw, default_region=region)
    except InvalidInput:
        return None  # "anonymous", "restricted", a SIP URI...
