"""The `data` of each event type, built in one place from the domain objects.

Values are JSON-ready (instants as ISO 8601 UTC strings), so the outbox stores exactly
what integrators receive.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from application.webhooks.call_report import report_on
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
    return OutboxEvent(type=event_type, occurred_at=now, data=data, subject_id=appointment.id)


def call_api_path(call: Call) -> str:
    """Where integrators read the whole record (turns, tool calls) over the REST API."""
    return f"/api/v1/calls/{call.id}"


def call_event(event_type: EventType, call: Call, *, now: datetime) -> OutboxEvent:
    """`call.completed` or `call.turned_away`, from the call's final record. The only
    place that reads a call's fields for webhooks.

    `duration_s` is ours (admission to our end of the call), not the carrier's billed
    figure; `appointments` and `summary` come from the call's successful booking, moving
    and cancelling tool invocations; `url` is the record's path in the REST API."""
    report = report_on(call)
    elapsed = call.elapsed_s
    data: dict[str, Any] = {
        "call_id": str(call.id),
        "carrier": call.carrier,
        "from": call.from_number,
        "to": call.to_number,
        "started_at": _instant(call.started_at),
        "ended_at": _instant(call.ended_at),
        "outcome": report.outcome,
        "end_reason": call.end_reason.value if call.end_reason else None,
        "next_step": call.next_step.value,
        "duration_s": round(elapsed) if elapsed is not None else None,
        "appointments": [
            {"appointment_id": t.appointment_id, "action": t.action} for t in report.appointments
        ],
        "summary": report.summary,
        "url": call_api_path(call),
    }
    return OutboxEvent(type=event_type, occurred_at=now, data=data, subject_id=call.id)
