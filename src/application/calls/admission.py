"""Use cases around a call's life on the Twilio side: admit it, attach its stream,
decide what happens after the stream, record its final status."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from application.ports import Clock, UnitOfWorkFactory
from domain.calls import Call, NextStep, StreamRefused


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingCall:
    call_sid: str
    from_number: str
    to_number: str


class AdmitCallHandler:
    """Record a ringing call and issue the one-time token its media stream must present.

    Only the token's digest is stored. A repeated webhook for a call still ringing
    (Twilio retries) issues a fresh token; the earlier one stops working.
    """

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(self, incoming: IncomingCall) -> str:
        token = secrets.token_urlsafe(24)
        async with self._uow() as uow:
            call = await uow.calls.get(incoming.call_sid, for_update=True)
            if call is None:
                call = Call(
                    sid=incoming.call_sid,
                    from_number=incoming.from_number,
                    to_number=incoming.to_number,
                    started_at=self._clock.now(),
                    stream_token_digest=token_digest(token),
                )
                await uow.calls.add(call)
            elif call.is_live and call.stream_token_digest is not None:
                call.stream_token_digest = token_digest(token)
                await uow.calls.update(call)
            else:
                raise StreamRefused("this call has already been answered")
            await uow.commit()
        return token


class OpenStreamHandler:
    """Attach a media stream to its call, spending the call's token. `StreamRefused` for a
    stray stream (unknown call), a replayed token or a second stream."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, call_sid: str, token: str) -> Call:
        async with self._uow() as uow:
            call = await uow.calls.get(call_sid, for_update=True)
            if call is None:
                raise StreamRefused("no such call")
            call.open_stream(token_digest(token))
            await uow.calls.update(call)
            await uow.commit()
        return call


class NextStepHandler:
    """What Twilio should do once the stream has closed; an unknown call hangs up.

    The session stores the call's end before it closes the stream, so a call that is
    stored as still going has lost its final record (the database refused it and it
    is being retried): what the agent planned is unknown, and a person takes over."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, call_sid: str) -> NextStep:
        async with self._uow() as uow:
            call = await uow.calls.get(call_sid)
        if call is None:
            return NextStep.HANG_UP
        if call.end_reason is None and call.next_step is NextStep.HANG_UP:
            return NextStep.APOLOGISE
        return call.next_step


@dataclass(frozen=True, slots=True, kw_only=True)
class CallStatusReport:
    call_sid: str
    status: str
    duration_s: int | None


_FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


class RecordCallStatusHandler:
    """Twilio's status callbacks: a final status ends the record (if the session has not)."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(self, report: CallStatusReport) -> bool:
        """False when the call is unknown (nothing stored)."""
        async with self._uow() as uow:
            call = await uow.calls.get(report.call_sid, for_update=True)
            if call is None:
                return False
            if report.status in _FINAL_STATUSES:
                call.complete(report.status, report.duration_s, self._clock.now())
            else:
                call.twilio_status = report.status
            await uow.calls.update(call)
            await uow.commit()
        return True
