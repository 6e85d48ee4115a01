"""What the caller hears and where they go once the receptionist's part is over.

Every carrier renders a `CallOutcome` in its own call language; the words and the
choice of who takes over are made here, once, for all of them.
"""

from __future__ import annotations

from application.ports import CallOutcome
from domain.calls import NextStep

SORRY = "Sorry, our phone assistant is not available right now."
CONNECTING = "Connecting you to the front desk now."
BUSY = "Sorry, all our lines are busy right now."
CALL_BACK = "Please call back in a few minutes."


def outcome_for(step: NextStep, front_desk_phone: str | None) -> CallOutcome:
    """A transfer goes to the front desk (with no desk, the call ends); an apology is
    said, then the desk takes over when there is one."""
    if step is NextStep.TRANSFER and front_desk_phone:
        return CallOutcome(step=step, say=CONNECTING, transfer_to=front_desk_phone)
    if step is NextStep.APOLOGISE:
        if front_desk_phone:
            return CallOutcome(step=step, say=f"{SORRY} {CONNECTING}", transfer_to=front_desk_phone)
        return CallOutcome(step=step, say=SORRY)
    return CallOutcome(step=NextStep.HANG_UP)


def busy_outcome(front_desk_phone: str | None) -> CallOutcome:
    """A call turned away (over capacity, draining): to the desk, or asked to call back."""
    if front_desk_phone:
        return CallOutcome(
            step=NextStep.TRANSFER, say=f"{BUSY} {CONNECTING}", transfer_to=front_desk_phone
        )
    return CallOutcome(step=NextStep.HANG_UP, say=f"{BUSY} {CALL_BACK}")
