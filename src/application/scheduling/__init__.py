"""Scheduling use cases. The REST API and the receptionist's tools both come through here."""

from application.scheduling.book_appointment import (
    BookAppointment,
    BookAppointmentHandler,
    Booked,
    Idempotency,
)
from application.scheduling.change_appointment import (
    CancelAppointment,
    CancelAppointmentHandler,
    RescheduleAppointment,
    RescheduleAppointmentHandler,
)
from application.scheduling.find_appointments import (
    FindAppointments,
    FindAppointmentsHandler,
    GetAppointmentHandler,
)
from application.scheduling.find_open_slots import FindOpenSlots, FindOpenSlotsHandler

__all__ = [
    "BookAppointment",
    "BookAppointmentHandler",
    "Booked",
    "CancelAppointment",
    "CancelAppointmentHandler",
    "FindAppointments",
    "FindAppointmentsHandler",
    "FindOpenSlots",
    "FindOpenSlotsHandler",
    "GetAppointmentHandler",
    "Idempotency",
    "RescheduleAppointment",
    "RescheduleAppointmentHandler",
]
