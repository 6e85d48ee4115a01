"""Use case: the appointments calls touched, for the staff console's call pages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from uuid import UUID

from application.ports import UnitOfWorkFactory
from domain.calls import Call
from domain.scheduling import Appointment


def _named_appointment_ids(call: Call) -> list[UUID]:
    """Appointment ids the agent passed to its tools (to move or cancel them)."""
    ids: list[UUID] = []
    for invocation in call.tool_invocations:
        try:
            arguments = json.loads(invocation.arguments)
            value = arguments.get("appointment_id") if isinstance(arguments, dict) else None
            if isinstance(value, str):
                ids.append(UUID(value))
        except ValueError:
            continue  # the model sent something unparsable; the tool already refused it
    return ids


class TouchedAppointmentsHandler:
    """Per call reference: the appointments booked during the call, then (for calls
    loaded with their tool invocations) those its tools named to move or cancel.
    Each appointment once, in that order. Reads only."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, calls: Mapping[str, Call]) -> dict[str, list[Appointment]]:
        """`calls` is keyed by each call's reference; so is the answer."""
        async with self._uow() as uow:
            booked = await uow.appointments.booked_during_calls(list(calls))
            touched = {ref: list(booked.get(ref, [])) for ref in calls}
            for ref, call in calls.items():
                seen = {a.id for a in touched[ref]}
                for appointment_id in _named_appointment_ids(call):
                    if appointment_id in seen:
                        continue
                    found = await uow.appointments.get(appointment_id)
                    if found is not None:
                        touched[ref].append(found)
                        seen.add(appointment_id)
        return touched
