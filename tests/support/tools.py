"""The receptionist's tools wired to the real scheduling use cases, for tests.

The same wiring the composition root does, over whatever unit of work the test brings:
the in-memory fake or a SQL one.
"""

from __future__ import annotations

from application.ports import Clock, UnitOfWorkFactory
from application.receptionist.tools import ReceptionistTools
from application.scheduling import (
    BookAppointmentHandler,
    CancelAppointmentHandler,
    FindAppointmentsHandler,
    FindOpenSlotsHandler,
    GetAppointmentHandler,
    RescheduleAppointmentHandler,
)
from domain.scheduling import Practice


def wired_tools(practice: Practice, uow: UnitOfWorkFactory, clock: Clock) -> ReceptionistTools:
    return ReceptionistTools(
        practice=practice,
        clock=clock,
        find_open_slots=FindOpenSlotsHandler(practice, uow, clock),
        book_appointment=BookAppointmentHandler(practice, uow, clock),
        find_appointments=FindAppointmentsHandler(practice, uow),
        get_appointment=GetAppointmentHandler(uow),
        reschedule_appointment=RescheduleAppointmentHandler(practice, uow, clock),
        cancel_appointment=CancelAppointmentHandler(uow, clock),
    )
