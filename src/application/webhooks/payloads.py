"""The `data` of each event type, built in one place from the domain objects.

Values are JSON-ready (instants as ISO 8601 UTC strings), so the outbox stores exactly
what integrators receive.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.calls import Call
from domain.scheduling import Appointment, Slot
from domain.webhooks import EventSource, EventType, OutboxEvent


def _instant(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _slot(slot: Slot) -> dict[str, Any]:
    return {
        "slot_id": slot.id,
        "provider_id": slot.provider_id,
        "service_id": slot.service_id,
        "start": _instant(slot.start),
        "end": _instant(slot.end),
    }


def appointment_event(
    event_type: EventType,
    appointment: Appointment,
    *,
    source: EventSource,
    now: datetime,
    previous_slot: Slot | None = None,
) -> OutboxEvent:
    """`appointment.booked`, `.rescheduled` (with `previous`: the slot it left) or
    `.cancelled`; `source` says who made the change."""
    data: dict[str, Any] = {
        "appointment_id": str(appointment.id),
        "status": appointment.status.value,
        **_slot(appointment.slot),
        "patient_name": appointment.patient.name,
        "patient_phone": appointment.patient.phone.e164,
        "source": source.value,
    }
    if previous_slot is not None:
        data["previous"] = _slot(previous_slot)
    return OutboxEvent(type=event_type, occurred_at=now, data=data)


def call_event(event_type: EventType, call: Call, *, now: datetime) -> OutboxEvent:
    """`call.completed` or `call.turned_away`, from the call's final record. The only
    place that reads a call's fields for webhooks."""
    data: dict[str, Any] = {
        "call_id": str(call.id),
        "carrier": call.carrier,
        "from": call.from_number,
        "to": call.to_number,
        "started_at": _instant(call.started_at),
        "ended_at": _instant(call.ended_at),
        "end_reason": call.end_reason.value if call.end_reason else None,
        "next_step": call.next_step.value,
        "duration_s": call.duration_s,
    }
    return OutboxEvent(type=event_type, occurred_at=now, data=data)
