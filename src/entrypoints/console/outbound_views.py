"""The console's read-only view of what left the practice about a call or an appointment:
webhook deliveries and texts, in the practice's time zone, numbers masked."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from application.notifications.outbound_history import OutboundHistory
from application.ports.outbound_log import DeliveryRecord, TextRecord
from entrypoints.console.views import local_datetime


def _masked(phone: str) -> str:
    return f"{phone[:2]}******{phone[-2:]}" if len(phone) > 4 else "***"


@dataclass(frozen=True, slots=True)
class DeliveryView:
    event: str
    when: str
    destination: str
    status: str
    attempts: str

    @classmethod
    def of(cls, d: DeliveryRecord, zone: ZoneInfo) -> DeliveryView:
        status = "no subscriber" if d.destination is None else d.status or "pending"
        code = f", last answer {d.last_status_code}" if d.last_status_code else ""
        return cls(
            event=d.event_type,
            when=local_datetime(d.occurred_at, zone),
            destination=d.destination or "-",
            status=status,
            attempts=f"{d.failed_attempts} failed{code}",
        )


@dataclass(frozen=True, slots=True)
class TextView:
    kind: str
    to: str
    status: str
    when: str
    note: str

    @classmethod
    def of(cls, t: TextRecord, zone: ZoneInfo) -> TextView:
        due = t.due_at
        note = f"due {local_datetime(due, zone)}" if due is not None else t.last_error or ""
        return cls(
            kind=t.kind,
            to=_masked(t.to),
            status=t.status,
            when=local_datetime(t.created_at, zone),
            note=note,
        )


def outbound_views(history: OutboundHistory, zone: ZoneInfo) -> dict[str, object]:
    return {
        "deliveries": [DeliveryView.of(d, zone) for d in history.deliveries],
        "texts": [TextView.of(t, zone) for t in history.texts],
    }
