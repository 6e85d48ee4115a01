"""Slots and their computation: practice hours, minus closures, bookings and the past."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from domain.scheduling.errors import (
    BeyondHorizon,
    InvalidInput,
    ShortNotice,
    SlotInPast,
    SlotNotOffered,
)
from domain.scheduling.practice import Practice, Provider, Service

SLOT_ID_SEPARATOR = "@"
_SLOT_TIME_FORMAT = "%Y-%m-%dT%H:%MZ"


@dataclass(frozen=True, slots=True)
class Slot:
    """A provider's time for one service. `start` and `end` are aware UTC datetimes."""

    provider_id: str
    service_id: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("slot times must be timezone-aware")
        if self.end <= self.start:
            raise ValueError("a slot must end after it starts")

    @property
    def id(self) -> str:
        return slot_id(self.provider_id, self.start)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


def slot_id(provider_id: str, start: datetime) -> str:
    """Stable, readable id: `dr-lee@2026-11-26T14:00Z` (start in UTC, to the minute)."""
    return f"{provider_id}{SLOT_ID_SEPARATOR}{start.astimezone(UTC).strftime(_SLOT_TIME_FORMAT)}"


def parse_slot_id(value: str) -> tuple[str, datetime]:
    """Inverse of `slot_id`; raises `InvalidInput` for anything else."""
    provider_id, sep, stamp = value.rpartition(SLOT_ID_SEPARATOR)
    try:
        if not sep or not provider_id:
            raise ValueError(value)
        start = datetime.strptime(stamp, _SLOT_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput(
            "That slot id is not valid; ids look like 'dr-lee@2026-11-26T14:00Z'.",
            field="slot_id",
        ) from None
    return provider_id, start


@dataclass(frozen=True, slots=True)
class Busy:
    """A provider's booked time, as the slot computation needs it."""

    provider_id: str
    start: datetime
    end: datetime


def candidate_slots(
    practice: Practice,
    provider: Provider,
    service: Service,
    day: date,
    local_times: tuple[time, time] | None = None,
) -> Iterator[Slot]:
    """Every slot the practice's grid offers `provider` for `service` on local `day`;
    with `local_times` (first, second), only those starting at a local time in
    [first, second).

    Starts step by `practice.slot_step` from each opening time; a slot must end by
    closing time. Wall-clock times that do not exist (the spring-forward gap) are
    skipped; ambiguous ones (fall-back) take their first occurrence.
    """
    zone = practice.time_zone
    earliest, latest = local_times or (time.min, time.max)
    for interval in practice.open_intervals(provider, day):
        local = datetime.combine(day, max(interval.opens, earliest))
        local += (datetime.combine(day, interval.opens) - local) % practice.slot_step
        closes = datetime.combine(day, interval.closes)
        until = datetime.combine(day, latest) if latest != time.max else closes
        offset = _steady_utc_offset(local, closes, zone)
        if offset is not None:  # no clock change in the interval: plain arithmetic
            while local + service.duration <= closes and local < until:
                start = (local - offset).replace(tzinfo=UTC)
                yield Slot(provider.id, service.id, start, start + service.duration)
                local += practice.slot_step
            continue
        while local + service.duration <= closes and local < until:
            start = local.replace(tzinfo=zone).astimezone(UTC)
            if start.astimezone(zone).replace(tzinfo=None) == local:
                yield Slot(provider.id, service.id, start, start + service.duration)
            local += practice.slot_step


def _steady_utc_offset(first: datetime, last: datetime, zone: tzinfo) -> timedelta | None:
    """The UTC offset of naive local times `first` .. `last` in `zone`, or None if it
    may change in between: both ends must exist, be unambiguous and share one offset
    (a zone changes its clocks at most once in a day)."""
    offsets = set()
    for local in (first, last):
        aware = local.replace(tzinfo=zone)
        if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:
            return None  # in a spring-forward gap
        if local.replace(tzinfo=zone, fold=1).utcoffset() != aware.utcoffset():
            return None  # in a fall-back fold
        offsets.add(aware.utcoffset())
    return offsets.pop() if len(offsets) == 1 else None


def open_slots(
    practice: Practice,
    *,
    service_id: str,
    provider_id: str | None,
    start: datetime,
    end: datetime,
    now: datetime,
    busy: Iterable[Busy],
    limit: int,
    local_times: tuple[time, time] | None = None,
) -> list[Slot]:
    """Open slots starting in [start, end), earliest first, at most `limit`; with
    `local_times`, only those starting at a local time in [first, second).

    Slots starting before `now` plus the practice's minimum notice, beyond the booking
    horizon, or overlapping `busy` are left out.
    """
    providers = (
        [practice.check_offers(provider_id, service_id)[0]]
        if provider_id is not None
        else practice.providers_for(service_id)
    )
    service = practice.service(service_id)
    start = max(start, now + practice.min_notice)
    end = min(end, now + practice.booking_horizon)
    if start >= end or limit <= 0:
        return []
    busy_by_provider: dict[str, list[Busy]] = {}
    for b in busy:
        busy_by_provider.setdefault(b.provider_id, []).append(b)
    zone = practice.time_zone
    first_day = start.astimezone(zone).date()
    last_day = end.astimezone(zone).date()
    found: list[Slot] = []
    day = first_day
    while day <= last_day:
        day_slots = [
            slot
            for provider in providers
            for slot in candidate_slots(practice, provider, service, day, local_times)
            if start <= slot.start < end
            and not _overlaps_any(slot, busy_by_provider.get(provider.id))
        ]
        day_slots.sort(key=lambda s: (s.start, s.provider_id))
        found.extend(day_slots)
        if len(found) >= limit:
            return found[:limit]
        day += timedelta(days=1)
    return found


def _hours(span: timedelta) -> str:
    """`2 hours`, `1 hour`, `90 minutes`: a notice period as a caller would hear it."""
    minutes = int(span.total_seconds() // 60)
    if minutes % 60:
        return f"{minutes} minutes"
    hours = minutes // 60
    return "1 hour" if hours == 1 else f"{hours} hours"


def _overlaps_any(slot: Slot, busy: list[Busy] | None) -> bool:
    return busy is not None and any(slot.overlaps(b.start, b.end) for b in busy)


def offered_slot(practice: Practice, *, slot_id_value: str, service_id: str, now: datetime) -> Slot:
    """The slot a client named, checked against every rule but availability: in the
    future (`SlotInPast`), at least the practice's minimum notice away (`ShortNotice`),
    within the horizon, on the grid.

    Availability (no overlap with another booking) is the database's to enforce.
    """
    provider_id, start = parse_slot_id(slot_id_value)
    provider, service = practice.check_offers(provider_id, service_id)
    if start <= now:
        raise SlotInPast("That time has already passed.")
    if start < now + practice.min_notice:
        raise ShortNotice(
            f"We need at least {_hours(practice.min_notice)} notice to book; "
            "please choose a later time."
        )
    if start > now + practice.booking_horizon:
        days = practice.booking_horizon.days
        raise BeyondHorizon(f"We only book up to {days} days ahead.")
    day = start.astimezone(practice.time_zone).date()
    for slot in candidate_slots(practice, provider, service, day):
        if slot.start == start:
            return slot
    raise SlotNotOffered(
        f"{provider.name} isn't available for {service.name.lower()} at that time."
    )
