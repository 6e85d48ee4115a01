"""The call records repository: a call row, its turns and its tool invocations."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.errors import translated_errors
from adapters.sql.paging import fetch_page
from adapters.sql.repositories import PendingWrites
from adapters.sql.tables import TOOL_NAME_LENGTH, call_tool_invocations, call_turns, calls
from application.ports import CallQuery, Page
from domain.calls import Call, CallStatus, EndReason, NextStep, Speaker, ToolInvocation, Turn


def _call_values(call: Call) -> dict[str, Any]:
    return {
        "carrier": call.carrier,
        "carrier_call_id": call.carrier_call_id,
        "from_number": call.from_number,
        "to_number": call.to_number,
        "started_at": call.started_at,
        "status": call.status.value,
        "next_step": call.next_step.value,
        "ended_at": call.ended_at,
        "end_reason": call.end_reason.value if call.end_reason else None,
        "carrier_status": call.carrier_status,
        "duration_s": call.duration_s,
        "stream_token_digest": call.stream_token_digest,
    }


_NUL = "\x00"
"""PostgreSQL text cannot hold NUL: no stored reference or number has one, and a query
with one fails."""


def _storable(text: str, width: int | None = None) -> str:
    """Text as PostgreSQL can keep it. What the caller said and what the model sent are
    recorded whatever they hold: a NUL (which PostgreSQL text refuses, failing the
    whole record) is kept as U+FFFD, and a tool name wider than its column is cut."""
    text = text.replace(_NUL, "\ufffd")
    return text if width is None else text[:width]


def _call(row: Row[Any]) -> Call:
    return Call(
        id=row.id,
        carrier=row.carrier,
        carrier_call_id=row.carrier_call_id,
        from_number=row.from_number,
        to_number=row.to_number,
        started_at=row.started_at,
        status=CallStatus(row.status),
        next_step=NextStep(row.next_step),
        ended_at=row.ended_at,
        end_reason=EndReason(row.end_reason) if row.end_reason else None,
        carrier_status=row.carrier_status,
        duration_s=row.duration_s,
        stream_token_digest=row.stream_token_digest,
    )


class SqlAlchemyCallRepository:
    """Turns and tool invocations are few per call (tens), so `update` rewrites them
    whole: simpler than diffing, and an interrupted flag set late is kept."""

    def __init__(self, session: AsyncSession, writes: PendingWrites) -> None:
        self._session, self._writes = session, writes

    async def add(self, call: Call) -> None:
        self._writes.add(insert(calls).values(id=call.id, **_call_values(call)))
        self._write_children(call)

    async def update(self, call: Call) -> None:
        self._writes.add(update(calls).where(calls.c.id == call.id).values(**_call_values(call)))
        self._writes.add(delete(call_turns).where(call_turns.c.call_id == call.id))
        self._writes.add(
            delete(call_tool_invocations).where(call_tool_invocations.c.call_id == call.id)
        )
        self._write_children(call)

    def _write_children(self, call: Call) -> None:
        if call.turns:
            self._writes.add(
                insert(call_turns).values(
                    [
                        {
                            "call_id": call.id,
                            "seq": i,
                            "speaker": t.speaker.value,
                            "text": _storable(t.text),
                            "at": t.at,
                            "interrupted": t.interrupted,
                        }
                        for i, t in enumerate(call.turns)
                    ]
                )
            )
        if call.tool_invocations:
            self._writes.add(
                insert(call_tool_invocations).values(
                    [
                        {
                            "call_id": call.id,
                            "seq": i,
                            "name": _storable(t.name, TOOL_NAME_LENGTH),
                            "arguments": _storable(t.arguments),
                            "outcome": t.outcome,
                            "result": _storable(t.result),
                            "at": t.at,
                            "duration_ms": t.duration_ms,
                        }
                        for i, t in enumerate(call.tool_invocations)
                    ]
                )
            )

    async def get(self, call_id: UUID, *, for_update: bool = False) -> Call | None:
        return await self._one(calls.c.id == call_id, for_update=for_update)

    async def get_by_carrier(
        self, carrier: str, carrier_call_id: str, *, for_update: bool = False
    ) -> Call | None:
        if _NUL in carrier or _NUL in carrier_call_id:
            return None
        return await self._one(
            calls.c.carrier == carrier,
            calls.c.carrier_call_id == carrier_call_id,
            for_update=for_update,
        )

    async def carrier_references(self, call_ids: Collection[UUID]) -> Mapping[UUID, str]:
        statement = select(calls.c.id, calls.c.carrier_call_id).where(calls.c.id.in_(call_ids))
        await self._writes.flush()
        async with translated_errors():
            rows = (await self._session.execute(statement)).all()
        return {row.id: row.carrier_call_id for row in rows}

    async def _one(self, *conditions: ColumnElement[bool], for_update: bool) -> Call | None:
        statement = select(calls).where(*conditions)
        if for_update:
            statement = statement.with_for_update()
        await self._writes.flush()
        async with translated_errors():
            row = (await self._session.execute(statement)).first()
            if row is None:
                return None
            turns = (
                await self._session.execute(
                    select(call_turns)
                    .where(call_turns.c.call_id == row.id)
                    .order_by(call_turns.c.seq)
                )
            ).all()
            tools = (
                await self._session.execute(
                    select(call_tool_invocations)
                    .where(call_tool_invocations.c.call_id == row.id)
                    .order_by(call_tool_invocations.c.seq)
                )
            ).all()
        call = _call(row)
        call.turns = [Turn(Speaker(t.speaker), t.text, t.at, t.interrupted) for t in turns]
        call.tool_invocations = [
            ToolInvocation(t.name, t.arguments, t.outcome, t.result, t.at, t.duration_ms)
            for t in tools
        ]
        return call

    async def find(self, query: CallQuery) -> Page[Call]:
        if query.from_number is not None and _NUL in query.from_number:
            return Page(items=[], total=0)
        conditions = []
        if query.status is not None:
            conditions.append(calls.c.status == query.status.value)
        if query.from_number is not None:
            conditions.append(calls.c.from_number == query.from_number)
        if query.started_from is not None:
            conditions.append(calls.c.started_at >= query.started_from)
        if query.started_before is not None:
            conditions.append(calls.c.started_at < query.started_before)
        await self._writes.flush()
        return await fetch_page(
            self._session,
            calls,
            conditions,
            (calls.c.started_at.desc(), calls.c.id),
            limit=query.limit,
            offset=query.offset,
            to_domain=_call,
        )
