"""/api/v1/calls: call records, newest first, and one call with its transcript."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from application.calls.records import GetCallHandler, ListCallsHandler
from application.ports import CallQuery
from domain.calls import Call, CallStatus
from domain.scheduling import Practice
from entrypoints.http.links import CALL_LINKS, GET_CALL, LIST_CALLS, with_links
from entrypoints.http.params import parse_instant
from entrypoints.http.problems import CALL_NOT_FOUND, UNAUTHORIZED, UNAVAILABLE, UNPROCESSABLE


class TurnOut(msgspec.Struct, frozen=True):
    speaker: str
    text: str
    at: datetime
    interrupted: bool


class ToolInvocationOut(msgspec.Struct, frozen=True):
    name: str
    arguments: str
    outcome: str
    result: str
    at: datetime
    duration_ms: float


class CallOut(msgspec.Struct, frozen=True):
    call_sid: str
    from_number: str
    to_number: str
    status: str
    next_step: str
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    twilio_status: str | None
    duration_s: int | None

    @classmethod
    def of(cls, call: Call) -> CallOut:
        return cls(
            call_sid=call.sid,
            from_number=call.from_number,
            to_number=call.to_number,
            status=call.status.value,
            next_step=call.next_step.value,
            started_at=call.started_at,
            ended_at=call.ended_at,
            end_reason=call.end_reason.value if call.end_reason else None,
            twilio_status=call.twilio_status,
            duration_s=call.duration_s,
        )


class CallDetail(msgspec.Struct, frozen=True):
    call: CallOut
    turns: list[TurnOut]
    tool_invocations: list[ToolInvocationOut]


class CallPage(msgspec.Struct, frozen=True):
    items: list[CallOut]
    total: int
    limit: int
    offset: int


class CallsController(Controller):
    path = "/calls"
    tags = ["calls"]

    @get(
        "/",
        operation_id=LIST_CALLS,
        operation_class=with_links(200, CALL_LINKS),
        summary="List calls, newest first",
        responses={**UNAUTHORIZED, **UNPROCESSABLE, **UNAVAILABLE},
    )
    async def list_calls(
        self,
        practice: NamedDependency[Practice],
        list_calls: NamedDependency[ListCallsHandler],
        status: FromQuery[CallStatus | None] = None,
        from_number: Annotated[
            str | None,
            QueryParameter(min_length=1, max_length=64, description="Caller, as Twilio sent it"),
        ] = None,
        started_from: Annotated[
            str | None, QueryParameter(name="from", max_length=40, description="Start, inclusive")
        ] = None,
        started_before: Annotated[
            str | None, QueryParameter(name="to", max_length=40, description="Start, exclusive")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> CallPage:
        zone = practice.time_zone
        page = await list_calls(
            CallQuery(
                status=status,
                from_number=from_number,
                started_from=parse_instant(started_from, field="from", zone=zone, end=False),
                started_before=parse_instant(started_before, field="to", zone=zone, end=True),
                limit=limit,
                offset=offset,
            )
        )
        return CallPage(
            items=[CallOut.of(c) for c in page.items], total=page.total, limit=limit, offset=offset
        )

    @get(
        "/{call_sid:str}",
        operation_id=GET_CALL,
        summary="One call with its transcript and tool invocations",
        responses={**UNAUTHORIZED, **CALL_NOT_FOUND, **UNAVAILABLE},
    )
    async def get_call(
        self, call_sid: FromPath[str], get_call: NamedDependency[GetCallHandler]
    ) -> CallDetail:
        call = await get_call(call_sid)
        return CallDetail(
            call=CallOut.of(call),
            turns=[TurnOut(t.speaker.value, t.text, t.at, t.interrupted) for t in call.turns],
            tool_invocations=[
                ToolInvocationOut(t.name, t.arguments, t.outcome, t.result, t.at, t.duration_ms)
                for t in call.tool_invocations
            ],
        )
