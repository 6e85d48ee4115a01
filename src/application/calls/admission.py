"""Use cases around a call's life on the carrier's side: admit it (or turn it away),
attach its stream, decide what happens after the stream, record the carrier's status."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from application.ports import TELEPHONE_AUDIO, AudioFormat, Clock, UnitOfWorkFactory
from application.webhooks.payloads import call_event
from domain.calls import Call, EndReason, NextStep, StreamRefused
from domain.webhooks import EventType


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingCall:
    carrier: str
    carrier_call_id: str
    from_number: str
    to_number: str
    audio: AudioFormat = TELEPHONE_AUDIO
    """The audio the media stream the call is answered with will carry."""


class AdmitCallHandler:
    """Record a ringing call and issue the one-time token its media stream must present.

    Only the token's digest is stored. A repeated webhook for a call still ringing
    (carriers retry) issues a fresh token; the earlier one stops working.
    """

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(self, incoming: IncomingCall) -> str:
        token = secrets.token_urlsafe(24)
        async with self._uow() as uow:
            call = await uow.calls.get_by_carrier(
                incoming.carrier, incoming.carrier_call_id, for_update=True
            )
            if call is None:
                call = _new_call(incoming, self._clock)
                call.stream_token_digest = token_digest(token)
                await uow.calls.add(call)
            elif call.is_live and call.stream_token_digest is not None:
                call.stream_token_digest = token_digest(token)
                await uow.calls.update(call)
            else:
                raise StreamRefused("this call has already been answered")
            await uow.commit()
        return token


class TurnAwayCallHandler:
    """Record a call that was answered with a refusal (over capacity, draining, no
    agent), so it shows in the call history like any other, and tell integrators
    (`call.turned_away`, in the same transaction). A repeated webhook for a call already
    recorded changes nothing and sends nothing."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(self, incoming: IncomingCall, reason: EndReason, step: NextStep) -> None:
        async with self._uow() as uow:
            known = await uow.calls.get_by_carrier(incoming.carrier, incoming.carrier_call_id)
            if known is not None:
                return
            call = _new_call(incoming, self._clock)
            now = self._clock.now()
            call.turn_away(reason, step, now)
            await uow.calls.add(call)
            await uow.outbox.add(call_event(EventType.CALL_TURNED_AWAY, call, now=now))
            await uow.commit()


def _new_call(incoming: IncomingCall, clock: Clock) -> Call:
    return Call(
        id=uuid.uuid4(),
        carrier=incoming.carrier,
        carrier_call_id=incoming.carrier_call_id,
        from_number=incoming.from_number,
        to_number=incoming.to_number,
        started_at=clock.now(),
    )


class OpenStreamHandler:
    """Attach a media stream to its call, spending the call's token. `StreamRefused` for a
    stray stream (unknown call), a replayed token or a second stream."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, carrier: str, carrier_call_id: str, token: str) -> Call:
        async with self._uow() as uow:
            call = await uow.calls.get_by_carrier(carrier, carrier_call_id, for_update=True)
            if call is None:
                raise StreamRefused("no such call")
            call.open_stream(token_digest(token))
            await uow.calls.update(call)
            await uow.commit()
        return call


class NextStepHandler:
    """What the carrier should do once the stream has closed; an unknown call hangs up.

    The session stores the call's end before it closes the stream, so a call that is
    stored as still going has lost its final record (the database refused it and it
    is being retried): what the agent planned is unknown, and a person takes over."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, carrier: str, carrier_call_id: str) -> NextStep:
        async with self._uow() as uow:
            call = await uow.calls.get_by_carrier(carrier, carrier_call_id)
        if call is None:
            return NextStep.HANG_UP
        if call.end_reason is None and call.next_step is NextStep.HANG_UP:
            return NextStep.APOLOGISE
        return call.next_step


@dataclass(frozen=True, slots=True, kw_only=True)
class CallStatusReport:
    """A carrier's status report; the carrier's adapter says whether it is `final`."""

    carrier: str
    carrier_call_id: str
    carrier_status: str
    final: bool
    duration_s: int | None = None


class RecordCallStatusHandler:
    """Carrier status reports: a final one ends the record (if the session has not)."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(self, report: CallStatusReport) -> bool:
        """False when the call is unknown (nothing stored)."""
        async with self._uow() as uow:
            call = await uow.calls.get_by_carrier(
                report.carrier, report.carrier_call_id, for_update=True
            )
            if call is None:
                return False
            if report.final:
                call.complete(report.carrier_status, report.duration_s, self._clock.now())
            else:
                call.report_status(report.carrier_status)
            await uow.calls.update(call)
            await uow.commit()
        return True
