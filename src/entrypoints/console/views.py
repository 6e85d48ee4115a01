"""Plain view models for the templates: times in the practice's zone, masked numbers,
durations and outcomes as staff read them. Pure functions; no I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.calls import Call, CallStatus, EndReason
from domain.scheduling import (
    Appointment,
    AppointmentStatus,
    InvalidInput,
    PhoneNumber,
    Practice,
    Slot,
)
from entrypoints.console.call_fields import (
    BROWSER_CALLER_PREFIX,
    booked_in_call,
    call_ref,
    carrier_status,
    is_browser_call,
)

OUTCOMES = {
    EndReason.CALLER_HUNG_UP: "Caller hung up",
    EndReason.AGENT_ENDED: "Receptionist ended the call",
    EndReason.TRANSFERRED: "Put through to the front desk",
    EndReason.AGENT_FAILED: "Receptionist failed; sent to the front desk",
    EndReason.AGENT_UNAVAILABLE: "Receptionist unavailable; sent to the front desk",
    EndReason.AT_CAPACITY: "Turned away (lines busy)",
    EndReason.DRAINING: "Turned away (server restarting)",
    EndReason.AGENT_NOT_CONFIGURED: "Turned away (no receptionist configured)",
    EndReason.TIME_LIMIT: "Ended at the time limit",
    EndReason.SHUTDOWN: "Ended by a server restart",
    EndReason.INTERNAL_ERROR: "Ended by an error",
}


def mask_number(raw: str) -> str:
    """Country code and last two digits (`+1******23`); words such as `anonymous` as is."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    if not digits:
        return raw[:32] or "unknown"
    try:
        return PhoneNumber(raw).masked
    except InvalidInput:
        return f"******{digits[-2:]}"


def local_time(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%H:%M")


def local_datetime(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%a %d %b %Y, %H:%M")


def long_date(day: date) -> str:
    return day.strftime("%A %d %B %Y")


def duration_text(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    minutes, secs = divmod(max(0, seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


@dataclass(frozen=True, slots=True)
class AppointmentView:
    id: UUID
    time: str
    when: str
    patient_name: str
    patient_phone: str
    service: str
    provider: str
    status: str
    channel: str
    call_ref: str | None
    changeable: bool

    @classmethod
    def of(cls, a: Appointment, practice: Practice, now: datetime) -> AppointmentView:
        zone = practice.time_zone
        provider = practice.providers.get(a.slot.provider_id)
        service = practice.services.get(a.slot.service_id)
        return cls(
            id=a.id,
            time=f"{local_time(a.slot.start, zone)}-{local_time(a.slot.end, zone)}",
            when=local_datetime(a.slot.start, zone),
            patient_name=a.patient.name,
            patient_phone=a.patient.phone.e164,
            service=service.name if service else a.slot.service_id,
            provider=provider.name if provider else a.slot.provider_id,
            status=a.status.value,
            channel=a.channel.value,
            call_ref=booked_in_call(a),
            changeable=a.status is AppointmentStatus.BOOKED and a.slot.start > now,
        )


@dataclass(frozen=True, slots=True)
class SlotView:
    id: str
    time: str
    provider: str

    @classmethod
    def of(cls, slot: Slot, practice: Practice) -> SlotView:
        provider = practice.providers.get(slot.provider_id)
        return cls(
            slot.id,
            local_time(slot.start, practice.time_zone),
            provider.name if provider else slot.provider_id,
        )


@dataclass(frozen=True, slots=True)
class CallView:
    ref: str
    started: str
    caller: str
    duration: str
    outcome: str
    live: bool
    carrier_status: str | None
    browser: bool = False
    """Placed from the console's "Try it" page, not from a phone."""

    @classmethod
    def of(cls, call: Call, zone: ZoneInfo) -> CallView:
        seconds = call.duration_s
        if seconds is None and call.ended_at is not None:
            seconds = int((call.ended_at - call.started_at).total_seconds())
        if call.status is CallStatus.RINGING:
            outcome = "Ringing"
        elif call.is_live:
            outcome = "In progress"
        else:
            outcome = OUTCOMES.get(call.end_reason, "Ended") if call.end_reason else "Ended"
        return cls(
            ref=call_ref(call),
            started=local_datetime(call.started_at, zone),
            caller=_caller(call),
            duration=duration_text(seconds) if not call.is_live else "in progress",
            outcome=outcome,
            live=call.is_live,
            carrier_status=carrier_status(call),
            browser=is_browser_call(call),
        )


def _caller(call: Call) -> str:
    if is_browser_call(call):
        who = call.from_number.removeprefix(BROWSER_CALLER_PREFIX)[:40]
        return f"{who} (browser)" if who else "browser"
    return mask_number(call.from_number)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """A turn (`speaker`, `text`) or a tool call (`tool`, `arguments`, `outcome`, `result`)."""

    at: datetime
    time: str
    speaker: str | None = None
    text: str = ""
    interrupted: bool = False
    tool: str | None = None
    arguments: str = ""
    outcome: str = ""
    result: str = ""
    duration_ms: float = 0.0


def _pretty(raw: str) -> str:
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except ValueError:
        return raw


def timeline(call: Call, zone: ZoneInfo) -> list[TimelineEntry]:
    """Turns and tool calls in the order they happened (turns first at equal times)."""
    entries = [
        TimelineEntry(
            t.at,
            local_time(t.at, zone) + t.at.astimezone(zone).strftime(":%S"),
            speaker=t.speaker.value,
            text=t.text,
            interrupted=t.interrupted,
        )
        for t in call.turns
    ] + [
        TimelineEntry(
            i.at,
            local_time(i.at, zone) + i.at.astimezone(zone).strftime(":%S"),
            tool=i.name,
            arguments=_pretty(i.arguments),
            outcome=i.outcome,
            result=_pretty(i.result),
            duration_ms=i.duration_ms,
        )
        for i in call.tool_invocations
    ]
    return sorted(entries, key=lambda e: (e.at, e.tool is not None))
