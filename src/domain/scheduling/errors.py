"""Scheduling errors: a stable machine code and a sentence fit to read to a caller."""

from __future__ import annotations


class SchedulingError(Exception):
    """Base of every rule the scheduling model refuses.

    `code` is stable (clients and the agent branch on it); `message` is plain English
    that a receptionist could say aloud.
    """

    code = "scheduling_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(SchedulingError):
    """A value that can never be valid (a malformed phone number, an empty name)."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class UnknownProvider(SchedulingError):
    code = "unknown_provider"


class UnknownService(SchedulingError):
    code = "unknown_service"


class ServiceNotOffered(SchedulingError):
    code = "service_not_offered"


class SlotNotOffered(SchedulingError):
    """The slot is not one the practice offers: outside hours, off the grid, a closure."""

    code = "slot_not_offered"


class SlotInPast(SchedulingError):
    code = "slot_in_past"


class BeyondHorizon(SchedulingError):
    code = "beyond_horizon"


class ShortNotice(SchedulingError):
    """The slot starts sooner than the practice's minimum booking notice allows."""

    code = "short_notice"


class SlotTaken(SchedulingError):
    code = "slot_taken"

    def __init__(self, message: str = "Sorry, that time has just been taken.") -> None:
        super().__init__(message)


class AppointmentNotFound(SchedulingError):
    code = "appointment_not_found"

    def __init__(self, message: str = "I couldn't find that appointment.") -> None:
        super().__init__(message)


class AppointmentNotChangeable(SchedulingError):
    """Cancel or reschedule of an appointment that is cancelled or already past."""

    code = "appointment_not_changeable"


class IdempotencyConflict(SchedulingError):
    """An idempotency key reused with a different request."""

    code = "idempotency_conflict"

    def __init__(
        self,
        message: str = "This Idempotency-Key was already used with a different request.",
    ) -> None:
        super().__init__(message)
