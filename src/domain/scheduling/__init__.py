"""Scheduling model: practice, slots, patients and appointments. Pure: no I/O."""

from domain.scheduling.appointment import Appointment, AppointmentStatus, Channel
from domain.scheduling.errors import (
    AppointmentNotChangeable,
    AppointmentNotFound,
    BeyondHorizon,
    IdempotencyConflict,
    InvalidInput,
    SchedulingError,
    ServiceNotOffered,
    ShortNotice,
    SlotInPast,
    SlotNotOffered,
    SlotTaken,
    UnknownProvider,
    UnknownService,
)
from domain.scheduling.patient import Patient, PhoneNumber
from domain.scheduling.practice import (
    OpenInterval,
    Practice,
    Provider,
    Receptionist,
    Service,
    TextPolicy,
    Weekday,
)
from domain.scheduling.slots import Busy, Slot, offered_slot, open_slots, parse_slot_id, slot_id

__all__ = [
    "Appointment",
    "AppointmentNotChangeable",
    "AppointmentNotFound",
    "AppointmentStatus",
    "BeyondHorizon",
    "Busy",
    "Channel",
    "IdempotencyConflict",
    "InvalidInput",
    "OpenInterval",
    "Patient",
    "PhoneNumber",
    "Practice",
    "Provider",
    "Receptionist",
    "SchedulingError",
    "Service",
    "ServiceNotOffered",
    "ShortNotice",
    "Slot",
    "SlotInPast",
    "SlotNotOffered",
    "SlotTaken",
    "TextPolicy",
    "UnknownProvider",
    "UnknownService",
    "Weekday",
    "offered_slot",
    "open_slots",
    "parse_slot_id",
    "slot_id",
]
