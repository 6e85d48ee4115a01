"""The console's only contact with the call vocabulary (a call's reference, its carrier
status, the call an appointment was booked in): one module to change when it is renamed."""

from __future__ import annotations

from domain.calls import Call
from domain.scheduling import Appointment


def call_ref(call: Call) -> str:
    """The reference the console links a call by (its path segment)."""
    return str(call.id)


def carrier_status(call: Call) -> str | None:
    return call.carrier_status


def booked_in_call(appointment: Appointment) -> str | None:
    """The reference of the call the appointment was booked in, if any."""
    return str(appointment.call_id) if appointment.call_id is not None else None


BROWSER_CARRIER = "browser"
BROWSER_CALLER_PREFIX = "browser:"
"""A softphone call's caller is `browser:` and the staff member's masked email."""


def is_browser_call(call: Call) -> bool:
    """Placed from the console's softphone page (a try-out), not from a phone."""
    return call.carrier == BROWSER_CARRIER
