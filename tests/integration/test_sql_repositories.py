"""The SQL repositories and unit of work against real databases (Postgres and SQLite)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest

from adapters.sql import Database, SqlAlchemyUnitOfWork
from application.ports import AppointmentQuery, IdempotencyRecord
from domain.scheduling import (
    Appointment,
    AppointmentStatus,
    Busy,
    Channel,
    Patient,
    PhoneNumber,
    Slot,
    SlotTaken,
)
from tests.support.practice import MONDAY, NOW, local


def appointment(hour: int, *, provider: str = "dr-lee", phone: str = "+14155550123") -> Appointment:
    start = local(MONDAY, hour)
    return Appointment.book(
        patient=Patient("Ada Lovelace", PhoneNumber(phone)),
        slot=Slot(provider, "cleaning", start, start + timedelta(minutes=30)),
        channel=Channel.PHONE,
        now=NOW,
        call_id=uuid.UUID("00000000-0000-4000-8000-000000000123"),
    )


async def test_an_added_appointment_reads_back_equal_in_every_field(database: Database) -> None:
    booked = appointment(10)
    async with SqlAlchemyUnitOfWork(database) as uow:
        await uow.appointments.add(booked)
        await uow.commit()

    async with SqlAlchemyUnitOfWork(database) as uow:
        loaded = await uow.appointments.get(booked.id)

    assert loaded is not None
    assert {f: getattr(loaded, f) for f in Appointment.__slots__} == {
        f: getattr(booked, f) for f in Appointment.__slots__
    }
    assert loaded.slot.start.utcoffset() == timedelta(0)


async def test_an_updated_appointment_keeps_its_new_state(database: Database) -> None:
    booked = appointment(10)
    async with SqlAlchemyUnitOfWork(database) as uow:
        await uow.appointments.add(booked)
        await uow.commit()

    async with SqlAlchemyUnitOfWork(database) as uow:
        loaded = await uow.appointments.get(booked.id, for_update=True)
        assert loaded is not None
        loaded.cancel(NOW + timedelta(hours=1))
        await uow.appointments.update(loaded)
        await uow.commit()

    async with SqlAlchemyUnitOfWork(database) as uow:
        again = await uow.appointments.get(booked.id)
    assert again is not None
    assert again.status is AppointmentStatus.CANCELLED
    assert again.cancelled_at == NOW + timedelta(hours=1)


async def test_an_unknown_id_reads_as_none(database: Database) -> None:
    async with SqlAlchemyUnitOfWork(database) as uow:
        assert await uow.appointments.get(uuid4()) is None
        assert await uow.idempotency.get("client", "missing") is None


async def test_work_that_is_not_committed_is_rolled_back(database: Database) -> None:
    booked = appointment(10)
    async with SqlAlchemyUnitOfWork(database) as uow:
        await uow.appointments.add(booked)
        assert await uow.appointments.get(booked.id) is not None  # visible inside

    async with SqlAlchemyUnitOfWork(database) as uow:
        assert await uow.appointments.get(booked.id) is None


async def test_find_filters_by_phone_status_and_time_and_pages_by_start(
    database: Database,
) -> None:
    mine = [appointment(hour, phone="+14155550123") for hour in (9, 10, 11, 12)]
    other = appointment(13, phone="+12025550147")
    async with SqlAlchemyUnitOfWork(database) as uow:
        for a in [*reversed(mine), other]:
            await uow.appointments.add(a)
        await uow.commit()
    async with SqlAlchemyUnitOfWork(database) as uow:
        mine[3].cancel(NOW)
        await uow.appointments.update(mine[3])
        await uow.commit()

    async with SqlAlchemyUnitOfWork(database) as uow:
        find = uow.appointments.find
        phone = PhoneNumber("+14155550123")
        everyone = await find(AppointmentQuery())
        first_page = await find(AppointmentQuery(phone=phone, limit=2))
        second_page = await find(AppointmentQuery(phone=phone, limit=2, offset=2))
        booked = await find(AppointmentQuery(phone=phone, status=AppointmentStatus.BOOKED))
        window = await find(
            AppointmentQuery(starts_from=local(MONDAY, 10), starts_before=local(MONDAY, 12))
        )

    assert everyone.total == 5
    assert [a.id for a in everyone.items] == [a.id for a in [*mine, other]]
    assert (first_page.total, [a.id for a in first_page.items]) == (4, [mine[0].id, mine[1].id])
    assert (second_page.total, [a.id for a in second_page.items]) == (4, [mine[2].id, mine[3].id])
    assert (booked.total, [a.id for a in booked.items]) == (3, [a.id for a in mine[:3]])
    assert [a.id for a in window.items] == [mine[1].id, mine[2].id]


async def test_busy_between_lists_booked_time_overlapping_the_window(database: Database) -> None:
    lee_9, lee_10, lee_11 = (appointment(h) for h in (9, 10, 11))
    kim_10 = appointment(10, provider="dr-kim")
    async with SqlAlchemyUnitOfWork(database) as uow:
        for a in (lee_9, lee_10, lee_11, kim_10):
            await uow.appointments.add(a)
        await uow.commit()
    async with SqlAlchemyUnitOfWork(database) as uow:
        lee_11.cancel(NOW)
        await uow.appointments.update(lee_11)
        await uow.commit()

    async with SqlAlchemyUnitOfWork(database) as uow:
        busy = await uow.appointments.busy_between(
            ["dr-lee"], local(MONDAY, 9) + timedelta(minutes=15), local(MONDAY, 12)
        )
        nobody = await uow.appointments.busy_between([], local(MONDAY, 0), local(MONDAY, 23))

    assert busy == [
        Busy("dr-lee", lee_9.slot.start, lee_9.slot.end),
        Busy("dr-lee", lee_10.slot.start, lee_10.slot.end),
    ]
    assert nobody == []


async def test_an_idempotency_record_reads_back(database: Database) -> None:
    booked = appointment(10)
    record = IdempotencyRecord(
        scope="client-a", key="k-1", fingerprint="f" * 64, appointment_id=booked.id, created_at=NOW
    )
    async with SqlAlchemyUnitOfWork(database) as uow:
        await uow.appointments.add(booked)
        await uow.idempotency.add(record)
        await uow.commit()

    async with SqlAlchemyUnitOfWork(database) as uow:
        assert await uow.idempotency.get("client-a", "k-1") == record
        assert await uow.idempotency.get("client-b", "k-1") is None


async def store(database: Database, appointment: Appointment) -> None:
    async with SqlAlchemyUnitOfWork(database) as uow:
        await uow.appointments.add(appointment)
        await uow.commit()


async def test_a_second_booked_appointment_overlapping_a_provider_is_refused(
    database: Database,
) -> None:
    first = appointment(10)
    overlapping = appointment(10)
    overlapping.slot = replace(
        first.slot,
        start=first.slot.start + timedelta(minutes=15),
        end=first.slot.end + timedelta(minutes=15),
    )
    await store(database, first)

    with pytest.raises(SlotTaken):
        await store(database, overlapping)
    await store(database, appointment(10, provider="dr-kim"))
