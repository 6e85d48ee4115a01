"""What `call.completed` says about a call: its outcome, the appointments its tools
changed, and a one-line summary; and which texts from patients change their opt-out."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from application.notifications import OptOutChange, keyword_change
from application.webhooks.call_report import NOTHING_CHANGED, report_on
from domain.calls import Call, EndReason, NextStep, ToolInvocation

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def a_call(*tools: tuple[str, str, dict[str, object]]) -> Call:
    call = Call(
        id=uuid.uuid4(),
        carrier="twilio",
        carrier_call_id="CA1",
        from_number="+14155550123",
        to_number="+14155550100",
        started_at=AT,
    )
    for name, outcome, result in tools:
        call.record_tool(ToolInvocation(name, "{}", outcome, json.dumps(result), AT, 1.0))
    return call


def described(appointment_id: str, service: str, time: str) -> dict[str, object]:
    return {
        "ok": True,
        "appointment": {
            "appointment_id": appointment_id,
            "service": service,
            "provider": "Dr. Lee",
            "time": time,
        },
    }


def test_bookings_moves_and_cancellations_make_the_summary_in_call_order() -> None:
    call = a_call(
        ("check_available_slots", "ok", {"ok": True, "slots": []}),
        ("book_appointment", "ok", described("a1", "Cleaning", "Monday, December 2 at 9 AM")),
        ("reschedule_appointment", "ok", described("a2", "Checkup", "Friday, December 6 at 2 PM")),
        ("cancel_appointment", "ok", described("a3", "Exam", "Tuesday, December 3 at 10 AM")),
    )
    call.end(EndReason.AGENT_ENDED, AT)

    report = report_on(call)

    assert report.outcome == "completed"
    assert [(t.appointment_id, t.action) for t in report.appointments] == [
        ("a1", "booked"),
        ("a2", "rescheduled"),
        ("a3", "cancelled"),
    ]
    assert report.summary == (
        "Booked a cleaning with Dr. Lee on Monday, December 2 at 9 AM. "
        "Moved a checkup with Dr. Lee to Friday, December 6 at 2 PM. "
        "Cancelled an exam with Dr. Lee on Tuesday, December 3 at 10 AM."
    )


def test_refused_and_unreadable_tool_results_change_nothing() -> None:
    call = a_call(
        ("book_appointment", "slot_taken", {"ok": False, "error": "slot_taken"}),
        ("cancel_appointment", "ok", {"ok": True}),
    )
    call.record_tool(ToolInvocation("book_appointment", "{}", "ok", "not json", AT, 1.0))

    report = report_on(call)

    assert (report.appointments, report.summary) == ((), NOTHING_CHANGED)


@pytest.mark.parametrize(
    ("reason", "step", "outcome"),
    [
        (EndReason.CALLER_HUNG_UP, NextStep.HANG_UP, "completed"),
        (EndReason.TRANSFERRED, NextStep.TRANSFER, "transferred"),
        (EndReason.AGENT_FAILED, NextStep.APOLOGISE, "failed"),
        (EndReason.TIME_LIMIT, NextStep.HANG_UP, "failed"),
        (EndReason.AT_CAPACITY, NextStep.APOLOGISE, "turned_away"),
        (EndReason.DRAINING, NextStep.TRANSFER, "turned_away"),
    ],
)
def test_the_outcome_follows_the_end_reason_and_the_next_step(
    reason: EndReason, step: NextStep, outcome: str
) -> None:
    call = a_call()
    call.plan(step)
    call.end(reason, AT)

    assert report_on(call).outcome == outcome


@pytest.mark.parametrize(
    ("body", "change"),
    [
        ("STOP", OptOutChange.OPTED_OUT),
        (" stop. ", OptOutChange.OPTED_OUT),
        ("StopAll", OptOutChange.OPTED_OUT),
        ("unsubscribe", OptOutChange.OPTED_OUT),
        ("CANCEL", OptOutChange.OPTED_OUT),
        ("end", OptOutChange.OPTED_OUT),
        ("Quit!", OptOutChange.OPTED_OUT),
        ("START", OptOutChange.OPTED_IN),
        ("unstop", OptOutChange.OPTED_IN),
        ("please cancel my appointment", OptOutChange.NONE),
        ("", OptOutChange.NONE),
        ("thanks", OptOutChange.NONE),
    ],
)
def test_only_a_single_keyword_changes_a_numbers_opt_out(body: str, change: OptOutChange) -> None:
    assert keyword_change(body) is change
