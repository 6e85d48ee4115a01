"""Call records in SQL (Postgres and SQLite): a call, its transcript and its tool use."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from adapters.sql import Database, SqlAlchemyUnitOfWork
from application.ports import CallQuery
from domain.calls import Call, CallStatus, EndReason, NextStep, Speaker, ToolInvocation, Turn
from tests.support.practice import NOW


def ringing(sid: str, minutes_later: int = 0, caller: str = "+14155550123") -> Call:
    return Call(
        id=uuid.uuid4(),
        carrier="twilio",
        carrier_call_id=sid,
        from_number=caller,
        to_number="+12125550142",
        started_at=NOW + timedelta(minutes=minutes_later),
        stream_token_digest="d" * 64,
    )


async def save(database: Database, call: Call, *, new: bool = False) -> None:
    async with SqlAlchemyUnitOfWork(database) as uow:
        await (uow.calls.add(call) if new else uow.calls.update(call))
        await uow.commit()


async def load(database: Database, sid: str) -> Call | None:
    """By the carrier's reference, and the same call again by our id."""
    async with SqlAlchemyUnitOfWork(database) as uow:
        found = await uow.calls.get_by_carrier("twilio", sid)
        if found is not None:
            again = await uow.calls.get(found.id)
            assert again is not None
            assert (again.carrier_call_id, again.turns) == (sid, found.turns)
            assert await uow.calls.carrier_references([found.id, uuid.uuid4()]) == {found.id: sid}
        return found


async def test_a_finished_call_reads_back_with_its_transcript_and_tools(database: Database) -> None:
    call = ringing("CA1")
    await save(database, call, new=True)
    call.open_stream("d" * 64)
    call.hear(Turn(Speaker.AGENT, "Hello, Bright Smile Dental.", NOW))
    call.hear(Turn(Speaker.CALLER, "I'd like a cleaning.", NOW + timedelta(seconds=3)))
    call.record_tool(
        ToolInvocation(
            "check_available_slots",
            '{"service":"cleaning"}',
            "ok",
            '{"ok":true}',
            NOW + timedelta(seconds=4),
            3.25,
        )
    )
    call.mark_last_agent_turn_interrupted()
    call.plan(NextStep.TRANSFER)
    call.end(EndReason.TRANSFERRED, NOW + timedelta(minutes=2))
    await save(database, call)

    stored = await load(database, "CA1")
    assert stored is not None
    assert stored.status is CallStatus.ENDED
    assert stored.end_reason is EndReason.TRANSFERRED
    assert stored.next_step is NextStep.TRANSFER
    assert stored.stream_token_digest is None
    assert stored.turns == call.turns
    assert stored.turns[0].interrupted
    assert stored.tool_invocations == call.tool_invocations


async def test_saving_a_call_twice_does_not_duplicate_its_turns(database: Database) -> None:
    call = ringing("CA2")
    await save(database, call, new=True)
    call.hear(Turn(Speaker.CALLER, "Hi", NOW))
    await save(database, call)
    call.hear(Turn(Speaker.AGENT, "Hello", NOW))
    await save(database, call)
    stored = await load(database, "CA2")
    assert stored is not None
    assert [t.text for t in stored.turns] == ["Hi", "Hello"]


async def test_an_unknown_call_is_none(database: Database) -> None:
    assert await load(database, "CA-nope") is None


async def test_calls_are_listed_newest_first_with_filters(database: Database) -> None:
    for i in range(5):
        await save(
            database, ringing(f"CA{i}", minutes_later=i, caller=f"+1415555010{i % 2}"), new=True
        )
    ended = ringing("CA9", minutes_later=9)
    ended.end(EndReason.CALLER_HUNG_UP, NOW + timedelta(minutes=10))
    await save(database, ended, new=True)

    async with SqlAlchemyUnitOfWork(database) as uow:
        everything = await uow.calls.find(CallQuery(limit=3))
        ringing_from_one = await uow.calls.find(
            CallQuery(status=CallStatus.RINGING, from_number="+14155550101")
        )
        window = await uow.calls.find(
            CallQuery(
                started_from=NOW + timedelta(minutes=1), started_before=NOW + timedelta(minutes=3)
            )
        )
    assert everything.total == 6
    assert [c.carrier_call_id for c in everything.items] == ["CA9", "CA4", "CA3"]
    assert [c.carrier_call_id for c in ringing_from_one.items] == ["CA3", "CA1"]
    assert [c.carrier_call_id for c in window.items] == ["CA2", "CA1"]


async def test_one_carriers_reference_may_repeat_at_another_carrier_but_not_its_own(
    database: Database,
) -> None:
    await save(database, ringing("CA7"), new=True)
    other = ringing("CA7")
    other.carrier = "telnyx"
    await save(database, other, new=True)
    async with SqlAlchemyUnitOfWork(database) as uow:
        twilio = await uow.calls.get_by_carrier("twilio", "CA7")
        telnyx = await uow.calls.get_by_carrier("telnyx", "CA7")
    assert twilio is not None
    assert telnyx is not None
    assert twilio.id != telnyx.id
    with pytest.raises(Exception, match=r"(?i)unique"):
        await save(database, ringing("CA7"), new=True)
