"""What a finished call did, for `call.completed`: the appointments it touched, a one-line
summary, and a coarse outcome. Read from the call's own record (its tool invocations),
so the call's final unit of work needs no extra queries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from domain.calls import Call, EndReason, NextStep

_ACTIONS = {
    "book_appointment": ("booked", "Booked"),
    "reschedule_appointment": ("rescheduled", "Moved"),
    "cancel_appointment": ("cancelled", "Cancelled"),
}
"""Tool name -> (the action's word in `appointments[].action`, its verb in the summary)."""

_FAILED = frozenset(
    {
        EndReason.AGENT_FAILED,
        EndReason.AGENT_UNAVAILABLE,
        EndReason.INTERNAL_ERROR,
        EndReason.SHUTDOWN,
        EndReason.TIME_LIMIT,
    }
)
_TURNED_AWAY = frozenset(
    {EndReason.AT_CAPACITY, EndReason.DRAINING, EndReason.AGENT_NOT_CONFIGURED}
)

NOTHING_CHANGED = "No appointments changed."


@dataclass(frozen=True, slots=True, kw_only=True)
class TouchedAppointment:
    """One appointment a tool changed during the call, as the tool's result described it."""

    appointment_id: str
    action: str
    service: str
    provider: str
    time: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallReport:
    outcome: str
    """`completed` (the caller or the agent ended it), `transferred`, `failed` (the agent
    or our side broke, or the call hit a limit) or `turned_away`."""
    appointments: tuple[TouchedAppointment, ...]
    summary: str


def report_on(call: Call) -> CallReport:
    """The report of a finished call. Only successful booking, moving and cancelling tool
    invocations count; a refused one changed nothing."""
    found = (_touched(i.name, i.outcome, i.result) for i in call.tool_invocations)
    touched = tuple(t for t in found if t is not None)
    return CallReport(outcome=_outcome(call), appointments=touched, summary=_summary(touched))


def _outcome(call: Call) -> str:
    if call.end_reason in _TURNED_AWAY:
        return "turned_away"
    if call.next_step is NextStep.TRANSFER:
        return "transferred"
    if call.end_reason in _FAILED or call.next_step is NextStep.APOLOGISE:
        return "failed"
    return "completed"


def _touched(name: str, outcome: str, result: str) -> TouchedAppointment | None:
    action = _ACTIONS.get(name)
    if action is None or outcome != "ok":
        return None
    try:
        described: Any = json.loads(result).get("appointment")
    except (ValueError, AttributeError):
        return None
    if not isinstance(described, dict) or not isinstance(described.get("appointment_id"), str):
        return None
    return TouchedAppointment(
        appointment_id=described["appointment_id"],
        action=action[0],
        service=str(described.get("service", "appointment")),
        provider=str(described.get("provider", "")),
        time=str(described.get("time", "")),
    )


def _summary(touched: tuple[TouchedAppointment, ...]) -> str:
    """`Booked a cleaning with Dr. Lee on Monday, December 2 at 9 AM.` per change."""
    if not touched:
        return NOTHING_CHANGED
    verbs = {action: verb for action, verb in _ACTIONS.values()}
    sentences = []
    for t in touched:
        article = "an" if t.service[:1].lower() in "aeiou" else "a"
        with_whom = f" with {t.provider}" if t.provider else ""
        on = (f" to {t.time}" if t.action == "rescheduled" else f" on {t.time}") if t.time else ""
        sentences.append(f"{verbs[t.action]} {article} {t.service.lower()}{with_whom}{on}.")
    return " ".join(sentences)
