"""Races for one slot or one idempotency key, through the real use cases and the database."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from adapters.sql import Database
from adapters.sql.tables import appointments
from application.scheduling import (
    Booked,
    CancelAppointment,
    Idempotency,
    RescheduleAppointment,
)
from domain.scheduling import AppointmentStatus, SlotTaken
from domain.webhooks import EventSource
from tests.integration.conftest import Scheduling, booking
from tests.support.practice import MONDAY, slot_at


async def booked_rows(database: Database) -> int:
    async with database.engine.connect() as connection:
        count = await connection.scalar(
            select(func.count())
            .select_from(appointments)
            .where(appointments.c.status == AppointmentStatus.BOOKED.value)
        )
    return int(count or 0)


async def test_second_booking_of_a_slot_is_refused(scheduling: Scheduling) -> None:
    await scheduling.book(booking(10))

    with pytest.raises(SlotTaken):
        await scheduling.book(booking(10, 15, name="Grace Hopper", phone="+12025550147"))


async def test_fifty_concurrent_bookings_of_one_slot_make_exactly_one_appointment(
    scheduling: Scheduling, database: Database
) -> None:
    attempts = [booking(10, name=f"Patient {i}", phone=f"+1415555{i:04d}") for i in range(100, 150)]

    results = await asyncio.gather(
        *(scheduling.book(command) for command in attempts), return_exceptions=True
    )

    successes = [r for r in results if isinstance(r, Booked)]
    refusals = [r for r in results if isinstance(r, SlotTaken)]
    assert (len(successes), len(refusals)) == (1, 49), [
        r for r in results if not isinstance(r, Booked | SlotTaken)
    ]
    assert await booked_rows(database) == 1


async def test_reschedule_into_a_taken_slot_leaves_both_appointments_untouched(
    scheduling: Scheduling,
) -> None:
    first = (await scheduling.book(booking(10))).appointment
    second = (await scheduling.book(booking(11, phone="+12025550147"))).appointment

    with pytest.raises(SlotTaken):
        await scheduling.reschedule(
            RescheduleAppointment(
                appointment_id=second.id,
                slot_id=slot_at("dr-lee", MONDAY, 10),
                source=EventSource.API,
            )
        )

    async with scheduling.uow() as uow:
        first_now = await uow.appointments.get(first.id)
        second_now = await uow.appointments.get(second.id)
    assert first_now is not None
    assert second_now is not None
    assert (first_now.slot, first_now.status) == (first.slot, AppointmentStatus.BOOKED)
    assert (second_now.slot, second_now.status) == (second.slot, AppointmentStatus.BOOKED)


async def test_reschedule_may_overlap_the_appointments_own_old_time(
    scheduling: Scheduling,
) -> None:
    booked = (await scheduling.book(booking(10))).appointment

    moved = await scheduling.reschedule(
        RescheduleAppointment(
            appointment_id=booked.id,
            slot_id=slot_at("dr-lee", MONDAY, 10, 15),
            source=EventSource.API,
        )
    )

    assert moved.slot.start == booked.slot.start + timedelta(minutes=15)


async def test_a_cancelled_appointment_frees_its_slot(scheduling: Scheduling) -> None:
    booked = (await scheduling.book(booking(10))).appointment
    await scheduling.cancel(CancelAppointment(appointment_id=booked.id, source=EventSource.API))

    again = await scheduling.book(booking(10, name="Grace Hopper", phone="+12025550147"))

    assert again.appointment.slot == booked.slot


async def test_two_concurrent_bookings_with_one_idempotency_key_make_one_appointment(
    scheduling: Scheduling, database: Database
) -> None:
    command = replace(booking(10), idempotency=Idempotency(scope="client-a", key="key-1"))

    first, second = await asyncio.gather(scheduling.book(command), scheduling.book(command))

    assert first.appointment.id == second.appointment.id
    assert sorted([first.replayed, second.replayed]) == [False, True]
    assert await booked_rows(database) == 1


async def test_a_repeated_idempotent_booking_returns_the_first(scheduling: Scheduling) -> None:
    command = replace(booking(10), idempotency=Idempotency(scope="client-a", key="key-1"))
    first = await scheduling.book(command)

    again = await scheduling.book(command)

    assert (again.appointment.id, again.replayed) == (first.appointment.id, True)
