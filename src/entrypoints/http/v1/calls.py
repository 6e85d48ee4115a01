"""/api/v1/calls: call records, newest first, and one call with its transcript."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter, QueryParameter
from msgspec import Meta

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


LEGACY_CARRIER = "twilio"
"""Calls looked up by a bare carrier reference (the v1 API's first key) are Twilio's."""

Deprecated = Meta(extra_json_schema={"deprecated": True})


class CallOut(msgspec.Struct, frozen=True):
    id: Annotated[UUID, Meta(description="Ours: the key of this call in the API")]
    carrier: Annotated[str, Meta(examples=["twilio"], description="Who carried the call")]
    carrier_call_id: Annotated[str, Meta(description="The carrier's own reference for it")]
    from_number: str
    to_number: str
    status: str
    next_step: str
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    carrier_status: Annotated[
        str | None, Meta(description="The carrier's latest status word, as it sent it")
    ]
    duration_s: int | None
    call_sid: Annotated[
        str | None,
        Deprecated,
        Meta(description="Deprecated: `carrier_call_id` of a Twilio call; null for others"),
    ]
    twilio_status: Annotated[
        str | None,
        Deprecated,
        Meta(description="Deprecated: `carrier_status` of a Twilio call; null for others"),
    ]

    @classmethod
    def of(cls, call: Call) -> CallOut:
        twilio = call.carrier == LEGACY_CARRIER
        return cls(
            id=call.id,
            carrier=call.carrier,
            carrier_call_id=call.carrier_call_id,
            from_number=call.from_number,
            to_number=call.to_number,
            status=call.status.value,
            next_step=call.next_step.value,
            started_at=call.started_at,
            ended_at=call.ended_at,
            end_reason=call.end_reason.value if call.end_reason else None,
            carrier_status=call.carrier_status,
            duration_s=call.duration_s,
            call_sid=call.carrier_call_id if twilio else None,
            twilio_status=call.carrier_status if twilio else None,
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


async def find_call(get_call: GetCallHandler, call_ref: str) -> Call:
    """By our id, or (deprecated) by a Twilio call sid; `CallNotFound` otherwise."""
    try:
        call_id = UUID(call_ref)
    except ValueError:
        return await get_call.by_carrier(LEGACY_CARRIER, call_ref)
    return await get_call(call_id)


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
            QueryParameter(
                min_length=1, max_length=64, description="Caller, as the carrier sent it"
            ),
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
        "/{call_ref:str}",
        operation_id=GET_CALL,
        summary="One call with its transcript and tool invocations",
        description=(
            "`call_ref` is the call's `id`. A Twilio call sid (`CA...`) is still accepted "
            "in its place; that form is deprecated."
        ),
        responses={**UNAUTHORIZED, **CALL_NOT_FOUND, **UNPROCESSABLE, **UNAVAILABLE},
    )
    async def get_call(
        self,
        call_ref: Annotated[str, Parameter(max_length=64, description="The call's id")],
        get_call: NamedDependency[GetCallHandler],
    ) -> CallDetail:
        call = await find_call(get_call, call_ref)
        return CallDetail(
            call=CallOut.of(call),
            turns=[TurnOut(t.speaker.value, t.text, t.at, t.interrupted) for t in call.turns],
            tool_invocations=[
                ToolInvocationOut(t.name, t.arguments, t.outcome, t.result, t.at, t.duration_ms)
                for t in call.tool_invocations
            ],
        )
