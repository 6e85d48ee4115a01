"""What every carrier's entrypoints share, in no carrier's terms: admitting a call or
turning it away, running its media stream as a call, deciding what follows the stream,
and recording status reports.

A carrier's module (`twilio_webhooks`, `telnyx_webhooks`, ...) verifies its requests,
parses its forms and renders `CallOutcome`s in its call language; everything between
is here, once, so two carriers cannot drift apart in how they treat callers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from application.calls.admission import CallStatusReport, IncomingCall
from application.calls.answer import call_key
from application.calls.outcome import busy_outcome, outcome_for
from application.errors import StorageUnavailable
from application.ports import TELEPHONE_AUDIO, CallLeg, CallOutcome
from domain.calls import Call, EndReason, NextStep, StreamRefused
from entrypoints.observability.logging import bind_call

if TYPE_CHECKING:
    from entrypoints.container import Container

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Admitted:
    """Answer with a media stream that presents `token`."""

    token: str


@dataclass(frozen=True, slots=True)
class TurnedAway:
    """Answer with `outcome` instead of the receptionist."""

    outcome: CallOutcome


class CallGateway:
    """The carrier-neutral half of the call entrypoints, for one process."""

    def __init__(self, container: Container) -> None:
        self._container = container
        self._capacity = container.call_capacity()
        self._metrics = container.metrics()

    def _desk(self) -> str | None:
        return self._container.practice().front_desk_phone

    async def admit(self, incoming: IncomingCall) -> Admitted | TurnedAway:
        """Admit the call (a place reserved, a one-time stream token issued) or turn it
        away: no agent configured, over capacity, draining, or the database out of
        reach. A turned-away call is recorded when the database allows it."""
        key = call_key(incoming.carrier, incoming.carrier_call_id)
        if not self._container.agent_configured():
            log.error("no voice agent is configured: the call is turned away")
            return await self._turn_away(
                incoming,
                EndReason.AGENT_NOT_CONFIGURED,
                outcome_for(NextStep.APOLOGISE, self._desk()),
            )
        if not self._capacity.reserve(key):
            reason = EndReason.DRAINING if self._capacity.draining else EndReason.AT_CAPACITY
            log.warning("turning a call away: %s", reason)
            return await self._turn_away(incoming, reason, busy_outcome(self._desk()))
        try:
            token = await self._container.admit_call()(incoming)
        except StreamRefused:
            return TurnedAway(outcome_for(NextStep.HANG_UP, None))
        except StorageUnavailable:
            log.error("database unavailable: the call is put through to the front desk")
            self._metrics.calls_turned_away.labels("storage_unavailable").inc()
            return TurnedAway(outcome_for(NextStep.APOLOGISE, self._desk()))
        self._container.answer_call().prepare(incoming)
        return Admitted(token)

    async def _turn_away(
        self, incoming: IncomingCall, reason: EndReason, outcome: CallOutcome
    ) -> TurnedAway:
        self._metrics.calls_turned_away.labels(reason.value).inc()
        try:
            await self._container.turn_away_call()(incoming, reason, outcome.step)
        except StorageUnavailable:
            log.error("database unavailable: a turned-away call is not recorded")
        return TurnedAway(outcome)

    async def run_stream(
        self,
        leg: CallLeg,
        token: str,
        *,
        on_claimed: Callable[[Call], None] | None = None,
        **log_fields: str,
    ) -> bool:
        """Run `leg` as the call its token names, to the end; counts it against this
        instance's capacity only once the token has been accepted. `on_claimed` is told
        then (a carrier that tells its caller the call is up, like the softphone).
        True when the stream was the call (its token was good)."""
        key = call_key(leg.carrier, leg.carrier_call_id)
        task = asyncio.current_task()
        live = False

        def claimed(call: Call) -> None:
            # Only a stream that presented its call's token is that call: a stray or
            # replayed one naming a live call must not take (or give back) its place.
            nonlocal live
            live = True
            self._metrics.active_calls.inc()
            self._capacity.stream_started(key, task)
            log.info("call started", extra={"call_id": str(call.id)})
            if on_claimed is not None:
                on_claimed(call)

        try:
            with bind_call(leg.carrier, leg.carrier_call_id, **log_fields):
                await self._container.answer_call()(leg, token, claimed=claimed)
        except asyncio.CancelledError:
            # The drain cancels calls that outlive it. The session has finalised the call:
            # the handler is done, and the server is not to log a crash.
            log.info("call cancelled: the server is stopping")
        finally:
            if live:
                self._capacity.stream_ended(key)
                self._metrics.active_calls.dec()
        return live

    async def after_stream(self, carrier: str, carrier_call_id: str | None) -> CallOutcome:
        """What the caller hears and where they go once the stream has closed; an
        unknown call hangs up, and a record out of reach hands the caller to a person."""
        if carrier_call_id is None:
            return outcome_for(NextStep.HANG_UP, None)
        try:
            step = await self._container.next_step()(carrier, carrier_call_id)
        except StorageUnavailable:
            step = NextStep.APOLOGISE
        finally:
            self._capacity.handed_off(call_key(carrier, carrier_call_id))
        return outcome_for(step, self._desk())

    def handed_off(self, carrier: str, carrier_call_id: str) -> None:
        """The caller has been told what follows the stream by the stream itself (the
        softphone's `end` frame): no after-stream request is coming."""
        self._capacity.handed_off(call_key(carrier, carrier_call_id))

    async def record_status(self, report: CallStatusReport) -> None:
        if report.final:
            self._container.answer_call().forget(report.carrier, report.carrier_call_id)
        await self._container.record_call_status()(report)


async def warm_greeting_audio(container: Container) -> None:
    """Make the greeting's audio for the telephone format (logged, never raised)."""
    try:
        await container.brief_agent()("", TELEPHONE_AUDIO, synthesise=True)
    except Exception:
        log.exception("making the greeting's audio at start-up failed")
