"""Ports: what the application needs from the outside world, in its own words."""

from application.ports.clock import Clock
from application.ports.unit_of_work import (
    AppointmentQuery,
    AppointmentRepository,
    IdempotencyRecord,
    IdempotencyRecords,
    Page,
    UnitOfWork,
    UnitOfWorkFactory,
)

__all__ = [
    "AppointmentQuery",
    "AppointmentRepository",
    "Clock",
    "IdempotencyRecord",
    "IdempotencyRecords",
    "Page",
    "UnitOfWork",
    "UnitOfWorkFactory",
]
