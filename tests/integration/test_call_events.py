"""Call events in the call code's own transactions (Postgres and SQLite): the final record
and `call.completed` are stored together or not at all; a turned-away call writes
`call.turned_away` once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from adapters.sql import Database, SqlAlchemyUnitOfWork
from application.calls.admission import IncomingCall, TurnAwayCallHandler
from application.calls.final_record import FinalRecord
from domain.calls import EndReason, NextStep, ToolInvocation
from tests.integration.test_sql_calls import ringing, save
from tests.integration.test_webhook_outbox import stored_events
from tests.support.clock import FixedClock
from tests.support.practice import NOW
from tests.support.tcp_proxy import TcpProxy, proxied_database

BOOKED = json.dumps(
    {
        "ok": True,
        "appointment": {
            "appointment_id": "6f1c1b7e-0000-4000-8000-000000000001",
            "status": "booked",
            "service": "Cleaning",
            "provider": "Dr. Lee",
            "time": "Monday, December 2 at 9 AM",
            "patient_name": "Ada Lovelace",
        },
    }
)


async def test_storing_a_final_record_writes_its_call_completed_event(database: Database) -> None:
    call = ringing("CA-final")
    await save(database, call, new=True)
    call.record_tool(ToolInvocation("book_appointment", "{}", "ok", BOOKED, NOW, 12.0))
    call.record_tool(
        ToolInvocation("cancel_appointment", "{}", "not_your_appointment", "{}", NOW, 3.0)
    )
    call.end(EndReason.AGENT_ENDED, NOW + timedelta(seconds=95))

    assert await FinalRecord(
        lambda: SqlAlchemyUnitOfWork(database), FixedClock(NOW), retry_s=1, backoff_s=0.1
    ).save(call)

    [event] = await stored_events(database)
    assert event["type"] == "call.completed"
    data = event["data"]
    assert isinstance(data, dict)
    assert data["duration_s"] == 95
    assert data["outcome"] == "completed"
    assert data["appointments"] == [
        {"appointment_id": "6f1c1b7e-0000-4000-8000-000000000001", "action": "booked"}
    ]
    assert data["summary"] == "Booked a cleaning with Dr. Lee on Monday, December 2 at 9 AM."


@pytest.mark.parametrize("engine_name", ["postgres"])
async def test_a_final_record_the_database_cannot_store_sends_no_event(
    database: Database, database_url: str
) -> None:
    call = ringing("CA-outage")
    await save(database, call, new=True)
    call.end(EndReason.CALLER_HUNG_UP, NOW)
    proxy: TcpProxy
    async with proxied_database(database_url) as (proxy, through_proxy):
        record = FinalRecord(
            lambda: SqlAlchemyUnitOfWork(through_proxy), FixedClock(NOW), retry_s=1, backoff_s=0.1
        )
        await proxy.stop()
        assert not await record.save(call)
        assert await stored_events(database) == []

        await proxy.start()
        assert await record.save(call)
    assert [e["type"] for e in await stored_events(database)] == ["call.completed"]


async def test_a_turned_away_call_writes_call_turned_away_once(database: Database) -> None:
    turn_away = TurnAwayCallHandler(lambda: SqlAlchemyUnitOfWork(database), FixedClock(NOW))
    incoming = IncomingCall(
        carrier="twilio", carrier_call_id="CA-busy", from_number="+14155550123", to_number="+1"
    )

    await turn_away(incoming, EndReason.AT_CAPACITY, NextStep.APOLOGISE)
    await turn_away(incoming, EndReason.AT_CAPACITY, NextStep.APOLOGISE)  # Twilio retried

    [event] = await stored_events(database)
    assert event["type"] == "call.turned_away"
    data = event["data"]
    assert isinstance(data, dict)
    assert (data["outcome"], data["end_reason"]) == ("turned_away", "at_capacity")
    assert data["url"] == f"/api/v1/calls/{data['call_id']}"
