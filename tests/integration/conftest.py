"""Use cases wired to the SQL adapter, on the engine the test is parametrized with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from adapters.sql import Database, SqlAlchemyUnitOfWork
from application.scheduling import (
    BookAppointment,
    BookAppointmentHandler,
    CancelAppointmentHandler,
    FindAppointmentsHandler,
    FindOpenSlotsHandler,
    RescheduleAppointmentHandler,
)
from domain.scheduling import Channel, Practice
from tests.support.clock import FixedClock
from tests.support.practice import MONDAY, NOW, make_practice, slot_at


@dataclass
class Scheduling:
    practice: Practice
    clock: FixedClock
    uow: Callable[[], SqlAlchemyUnitOfWork]
    book: BookAppointmentHandler
    cancel: CancelAppointmentHandler
    reschedule: RescheduleAppointmentHandler
    find: FindAppointmentsHandler
    open_slots: FindOpenSlotsHandler


@pytest.fixture
def scheduling(database: Database) -> Scheduling:
    return build_scheduling(database)


def build_scheduling(database: Database) -> Scheduling:
    practice, clock = make_practice(), FixedClock(NOW)

    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(database)

    return Scheduling(
        practice=practice,
        clock=clock,
        uow=uow,
        book=BookAppointmentHandler(practice, uow, clock),
        cancel=CancelAppointmentHandler(uow, clock),
        reschedule=RescheduleAppointmentHandler(practice, uow, clock),
        find=FindAppointmentsHandler(practice, uow),
        open_slots=FindOpenSlotsHandler(practice, uow, clock),
    )


def booking(
    hour: int,
    minute: int = 0,
    *,
    provider: str = "dr-lee",
    service: str = "cleaning",
    name: str = "Ada Lovelace",
    phone: str = "+14155550123",
) -> BookAppointment:
    return BookAppointment(
        slot_id=slot_at(provider, MONDAY, hour, minute),
        service_id=service,
        patient_name=name,
        patient_phone=phone,
        channel=Channel.API,
    )
