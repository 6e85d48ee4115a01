"""The console's only contact with the call vocabulary (a call's reference, its carrier
status, the call an appointment was booked in): one module to change when it is renamed."""

from __future__ import annotations

from domain.calls import Call
from domain.scheduling import Appointment


def call_ref(call: Call) -> str:
    """The reference the console links a call by (its path segment)."""
    return call.sid


def carrier_status(call: Call) -> str | None:
    return call.twilio_status


def booked_in_call(appointment: Appointment) -> str | None:
    """The reference of the call the appointment was booked in, if any."""
    return appointment.call_sid
