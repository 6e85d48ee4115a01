"""A scenario's expectations against what happened: each failed check is one sentence."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from domain.scheduling import Appointment, AppointmentStatus, Practice
from entrypoints.dev_client.feed import EndedEvent
from entrypoints.evals.scenario import Expectations, ExpectedAppointment

_FAILED_ENDS = frozenset({"agent_failed", "agent_unavailable", "internal_error", "time_limit"})


def check(
    expect: Expectations,
    *,
    practice: Practice,
    today: date,
    appointments: Sequence[Appointment],
    agent_said: Sequence[str],
    tools_called: Sequence[str],
    ended: EndedEvent | None,
    caller_hung_up: bool,
) -> list[str]:
    failures: list[str] = []
    if ended is None:
        failures.append("the call's events feed never reported its end")
    elif ended.reason in _FAILED_ENDS:
        failures.append(f"the call ended badly: {ended.reason} (see the log)")
    if caller_hung_up:
        failures.append("the agent did not end the call in time: the caller hung up")
    for status, expected in (
        (AppointmentStatus.BOOKED, expect.booked),
        (AppointmentStatus.CANCELLED, expect.cancelled),
    ):
        if expected is not None:
            failures.extend(_compare(status, expected, appointments, practice, today))
    if expect.next_step is not None:
        got = ended.next_step if ended is not None else "none"
        if got != expect.next_step.value:
            failures.append(f"next_step: expected {expect.next_step.value}, got {got}")
    spoken = " ".join(agent_said).lower()
    failures.extend(
        f"agent_says: the agent never said {text!r}"
        for text in expect.agent_says
        if text.lower() not in spoken
    )
    failures.extend(
        f"tools_called: {name} was never called"
        for name in expect.tools_called
        if name not in tools_called
    )
    return failures


def _compare(
    status: AppointmentStatus,
    expected: Sequence[ExpectedAppointment],
    appointments: Sequence[Appointment],
    practice: Practice,
    today: date,
) -> list[str]:
    want = sorted(e.resolved(today, practice) for e in expected)
    got = sorted(
        (
            a.slot.service_id,
            a.slot.provider_id,
            a.slot.start.astimezone(practice.time_zone).date(),
        )
        for a in appointments
        if a.status is status
    )
    if want == got:
        return []
    return [f"{status.value}: expected {_describe(want)}, got {_describe(got)}"]


def _describe(items: Sequence[tuple[str, str, date]]) -> str:
    if not items:
        return "none"
    return ", ".join(f"{s} with {p} on {d:%a %Y-%m-%d}" for s, p, d in items)
