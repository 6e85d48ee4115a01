"""The receptionist's tools: their arguments as msgspec structs, which are also the
JSON schemas the model sees. One definition serves validation and the catalogue."""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from application.ports import ToolSpec

IsoDate = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", description="A date as YYYY-MM-DD.")]
SlotId = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=80,
        description="A slot_id exactly as check_available_slots returned it.",
    ),
]
ServiceId = Annotated[
    str, Meta(min_length=1, max_length=40, description="A service id from the practice's list.")
]
AppointmentId = Annotated[
    str,
    Meta(
        min_length=36,
        max_length=36,
        description="An appointment_id exactly as find_appointments or booking returned it.",
    ),
]
Phone = Annotated[
    str,
    Meta(min_length=3, max_length=32, description="Phone number, digits as the caller said them."),
]


class _Args(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class CheckAvailableSlots(_Args):
    service: ServiceId
    date: IsoDate | None = None
    provider: (
        Annotated[
            str, Meta(max_length=40, description="A provider id, when the caller asks for one.")
        ]
        | None
    ) = None
    part_of_day: Literal["morning", "afternoon", "evening", "any"] = "any"


class BookAppointment(_Args):
    slot_id: SlotId
    service: ServiceId
    patient_name: Annotated[str, Meta(min_length=1, max_length=120, description="Full name.")]
    patient_phone: Phone | None = None


class FindAppointments(_Args):
    patient_phone: Phone | None = None
    patient_name: Annotated[str, Meta(max_length=120)] | None = None


class RescheduleAppointment(_Args):
    appointment_id: AppointmentId
    slot_id: SlotId


class CancelAppointment(_Args):
    appointment_id: AppointmentId


class TransferToHuman(_Args):
    reason: Annotated[str, Meta(max_length=300)] = ""


class EndCall(_Args):
    pass


_DESCRIPTIONS: dict[str, tuple[type[_Args], str]] = {
    "check_available_slots": (
        CheckAvailableSlots,
        "List open appointment slots for a service, from a date (default today), optionally "
        "for one provider and part of day. Returns up to 6 slots with their slot_id.",
    ),
    "book_appointment": (
        BookAppointment,
        "Book a slot for a patient, only after the caller confirmed the time, service and "
        "name. patient_phone defaults to the caller's number.",
    ),
    "find_appointments": (
        FindAppointments,
        "Find the caller's upcoming appointments. Without arguments uses the caller's "
        "number; for another number, the patient's name is required too.",
    ),
    "reschedule_appointment": (
        RescheduleAppointment,
        "Move one of the caller's appointments to another open slot of the same service, "
        "only after the caller confirmed the new time.",
    ),
    "cancel_appointment": (
        CancelAppointment,
        "Cancel one of the caller's appointments, only after the caller confirmed.",
    ),
    "transfer_to_human": (
        TransferToHuman,
        "Hand the caller to a person at the front desk. Say a short sentence first.",
    ),
    "end_call": (
        EndCall,
        "End the call once the caller has nothing more. Say goodbye in the same turn.",
    ),
}

ARGUMENT_TYPES: dict[str, type[_Args]] = {name: t for name, (t, _) in _DESCRIPTIONS.items()}


def _schema(arguments: type[_Args]) -> dict[str, Any]:
    """The struct's JSON schema, inlined (models handle flat schemas best)."""
    generated = msgspec.json.schema(arguments)
    schema: dict[str, Any] = dict(generated["$defs"][arguments.__name__])
    schema.pop("title", None)
    for name, prop in schema["properties"].items():
        options = prop.get("anyOf", ())
        if len(options) == 2 and {"type": "null"} in options:
            (kept,) = (o for o in options if o != {"type": "null"})
            schema["properties"][name] = kept
    schema["additionalProperties"] = False
    return schema


@functools.cache
def tool_catalogue() -> tuple[ToolSpec, ...]:
    """The tools offered to the agent. Built once: the schemas depend only on the argument
    structs, and generating them costs ~0.6 ms, which every call's set-up paid."""
    return tuple(
        ToolSpec(name=name, description=description, parameters=_schema(arguments))
        for name, (arguments, description) in _DESCRIPTIONS.items()
    )
