"""Hostile tool arguments against the real SQL repositories, on PostgreSQL (whose text
cannot hold NUL and whose columns have widths): each gets a clear validation result,
never a database error; and the call record of such a call is stored whole."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from adapters.sql import Database, SqlAlchemyUnitOfWork
from application.receptionist.tools import CallContext, ReceptionistTools
from domain.calls import Call, EndReason, Speaker, ToolInvocation, Turn
from domain.scheduling import PhoneNumber
from tests.support.clock import FixedClock
from tests.support.practice import MONDAY, NOW, make_practice, slot_at
from tests.support.tools import wired_tools

CALL_SID = "CA" + "5" * 32
CALL_ID = uuid.UUID("00000000-0000-4000-8000-000000000555")


@pytest.fixture
def engine_name() -> str:
    return "postgres"


def sql_tools(database: Database) -> ReceptionistTools:
    practice, clock = make_practice(), FixedClock(NOW)

    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(database)

    return wired_tools(practice, uow, clock)


def caller() -> CallContext:
    return CallContext(call_id=CALL_ID, caller_phone=PhoneNumber("+14155550123"))


async def invoke(tools: ReceptionistTools, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    outcome = await tools.invoke(name, json.dumps(arguments), caller())
    body: dict[str, Any] = json.loads(outcome.content)
    return body


def booking(**overrides: str) -> dict[str, str]:
    return {
        "slot_id": slot_at("dr-lee", MONDAY, 10),
        "service": "cleaning",
        "patient_name": "Ada Lovelace",
        **overrides,
    }


@pytest.mark.parametrize(
    "arguments",
    [
        booking(patient_name="Ada\x00Lovelace"),
        booking(patient_name="\x00"),
        booking(patient_phone="+1415555\x000123"),
        booking(patient_phone="\x00\x00\x00"),
        booking(patient_phone="+1 415 555 0123 \x00 ext 9"),
        booking(service="clean\x00ing"),
        booking(slot_id="dr-lee\x00@2026-11-23T15:00Z"),
        booking(slot_id="dr-lee@2026-11-23T15:00Z\x00"),
    ],
)
async def test_a_nul_in_a_booking_is_a_validation_result_and_books_nothing(
    database: Database, arguments: dict[str, str]
) -> None:
    tools = sql_tools(database)
    body = await invoke(tools, "book_appointment", arguments)
    assert body["ok"] is False, body
    assert body["error"] not in ("storage_unavailable", "internal_error")
    assert body["message"]
    found = await invoke(tools, "find_appointments", {})
    assert found["appointments"] == []


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("find_appointments", {"patient_phone": "+1415555\x000199", "patient_name": "A\x00"}),
        ("find_appointments", {"patient_phone": "\x00" * 10}),
        ("check_available_slots", {"service": "\x00"}),
        ("check_available_slots", {"service": "cleaning", "provider": "dr-\x00lee"}),
        ("cancel_appointment", {"appointment_id": "\x00" * 36}),
        ("reschedule_appointment", {"appointment_id": "0" * 35 + "\x00", "slot_id": "a@b"}),
    ],
)
async def test_a_nul_in_a_lookup_is_answered_not_a_database_error(
    database: Database, name: str, arguments: dict[str, str]
) -> None:
    body = await invoke(sql_tools(database), name, arguments)
    assert body.get("error") not in ("storage_unavailable", "internal_error"), body


async def test_a_call_record_keeps_what_a_hostile_model_sent(database: Database) -> None:
    """The record of a call whose model sent NUL and an over-long tool name is stored
    (PostgreSQL refuses NUL in text, and the name column is 64 wide); nothing is lost."""
    call = Call(
        id=CALL_ID,
        carrier="twilio",
        carrier_call_id=CALL_SID,
        from_number="+14155550123",
        to_number="+12125550142",
        started_at=NOW,
    )
    async with SqlAlchemyUnitOfWork(database) as uow:
        await uow.calls.add(call)
        await uow.commit()
    call.hear(Turn(Speaker.CALLER, "my name is Ada\x00", NOW))
    call.record_tool(
        ToolInvocation(
            "x" * 500,
            '{"patient_name": "Ada\x00"}' + " " * 100_000,
            "unknown_tool",
            '{"ok":false}',
            NOW,
            1.5,
        )
    )
    call.end(EndReason.CALLER_HUNG_UP, NOW + timedelta(minutes=1))
    async with SqlAlchemyUnitOfWork(database) as uow:
        await uow.calls.update(call)
        await uow.commit()
    async with SqlAlchemyUnitOfWork(database) as uow:
        stored = await uow.calls.get(CALL_ID)
    assert stored is not None
    assert stored.end_reason is EndReason.CALLER_HUNG_UP
    assert stored.turns[0].text.startswith("my name is Ada")
    (tool,) = stored.tool_invocations
    assert tool.name.startswith("xxx")
    assert tool.arguments.startswith('{"patient_name": "Ada')
    assert "\x00" not in tool.arguments
