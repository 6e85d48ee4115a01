"""The outbox on both engines: an event commits with the change it reports, or not at all."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

import pytest
from sqlalchemy import select

from adapters.sql import Database, SqlAlchemyUnitOfWork
from adapters.sql.tables import webhook_events
from application.scheduling import CancelAppointment, Idempotency, RescheduleAppointment
from application.webhooks import DeliveryWakeUp, call_event
from domain.calls import Call, EndReason
from domain.scheduling import SlotTaken
from domain.webhooks import EventSource, EventType, OutboxEvent
from tests.integration.conftest import Scheduling, booking
from tests.support.practice import MONDAY, NOW, slot_at


async def stored_events(database: Database) -> list[dict[str, object]]:
    async with database.engine.connect() as connection:
        rows = (
            await connection.execute(select(webhook_events).order_by(webhook_events.c.occurred_at))
        ).all()
    return [json.loads(row.body) | {"id": str(row.id)} for row in rows]


async def test_a_booking_commits_its_appointment_booked_event_with_it(
    scheduling: Scheduling, database: Database
) -> None:
    booked = await scheduling.book(booking(10))

    [event] = await stored_events(database)
    assert event["type"] == "appointment.booked"
    assert event["timestamp"] == "2026-11-20T15:00:00Z"
    data = event["data"]
    assert isinstance(data, dict)
    assert data["appointment_id"] == str(booked.appointment.id)
    assert data["slot_id"] == slot_at("dr-lee", MONDAY, 10)
    assert data["source"] == "api"
    assert data["patient_phone"] == "+14155550123"


async def test_a_booking_refused_by_the_database_leaves_no_event(
    scheduling: Scheduling, database: Database
) -> None:
    await scheduling.book(booking(10))

    with pytest.raises(SlotTaken):
        await scheduling.book(booking(10, name="Grace Hopper", phone="+14155550199"))

    assert [e["type"] for e in await stored_events(database)] == ["appointment.booked"]


async def test_an_event_added_in_a_unit_of_work_that_is_not_committed_is_never_stored(
    database: Database,
) -> None:
    async with SqlAlchemyUnitOfWork(database) as uow:
        await uow.outbox.add(OutboxEvent(type=EventType.CALL_COMPLETED, occurred_at=NOW, data={}))

    assert await stored_events(database) == []


async def test_an_idempotent_replay_of_a_booking_writes_no_second_event(
    scheduling: Scheduling, database: Database
) -> None:
    command = replace(booking(10), idempotency=Idempotency(scope="s", key="k"))
    await scheduling.book(command)
    replay = await scheduling.book(command)

    assert replay.replayed
    assert len(await stored_events(database)) == 1


async def test_reschedule_and_cancel_write_their_events_with_the_source_and_previous_slot(
    scheduling: Scheduling, database: Database
) -> None:
    booked = (await scheduling.book(booking(10))).appointment
    await scheduling.reschedule(
        RescheduleAppointment(
            appointment_id=booked.id,
            slot_id=slot_at("dr-lee", MONDAY, 11),
            source=EventSource.PHONE,
        )
    )
    await scheduling.cancel(CancelAppointment(appointment_id=booked.id, source=EventSource.CONSOLE))

    booked_event, moved, cancelled = await stored_events(database)
    assert moved["type"] == "appointment.rescheduled"
    assert moved["data"]["source"] == "phone"  # type: ignore[index]
    assert moved["data"]["slot_id"] == slot_at("dr-lee", MONDAY, 11)  # type: ignore[index]
    assert moved["data"]["previous"]["slot_id"] == slot_at("dr-lee", MONDAY, 10)  # type: ignore[index]
    assert cancelled["type"] == "appointment.cancelled"
    assert cancelled["data"]["source"] == "console"  # type: ignore[index]
    assert cancelled["data"]["status"] == "cancelled"  # type: ignore[index]
    assert len({booked_event["id"], moved["id"], cancelled["id"]}) == 3


CALL_ID = uuid.UUID("00000000-0000-4000-8000-000000000123")


async def test_call_code_adds_a_call_event_inside_its_own_unit_of_work(database: Database) -> None:
    call = Call(
        id=CALL_ID,
        carrier="twilio",
        carrier_call_id="CA123",
        from_number="+14155550123",
        to_number="+14155550100",
        started_at=NOW,
    )
    call.end(EndReason.AGENT_ENDED, NOW)
    async with SqlAlchemyUnitOfWork(database) as uow:
        await uow.calls.add(call)
        await uow.outbox.add(call_event(EventType.CALL_COMPLETED, call, now=NOW))
        await uow.commit()

    [event] = await stored_events(database)
    assert event["type"] == "call.completed"
    assert event["data"]["call_id"] == str(CALL_ID)  # type: ignore[index]
    assert event["data"]["end_reason"] == "agent_ended"  # type: ignore[index]


async def test_the_unit_of_work_wakes_the_dispatcher_only_after_committing_events(
    database: Database,
) -> None:
    wake = DeliveryWakeUp()
    event = OutboxEvent(type=EventType.CALL_TURNED_AWAY, occurred_at=NOW, data={})

    async with SqlAlchemyUnitOfWork(database, wake.poke) as uow:
        await uow.outbox.add(event)
    assert not await wake.wait(0)  # rolled back: no poke

    async with SqlAlchemyUnitOfWork(database, wake.poke) as uow:
        await uow.commit()
    assert not await wake.wait(0)  # committed nothing for the outbox: no poke

    async with SqlAlchemyUnitOfWork(database, wake.poke) as uow:
        await uow.outbox.add(event)
        await uow.commit()
    assert await wake.wait(0)
