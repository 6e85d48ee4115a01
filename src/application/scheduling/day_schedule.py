"""Use case: one day of the practice, provider by provider, for the staff console."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from application.ports import AppointmentQuery, Clock, UnitOfWorkFactory
from domain.scheduling import (
    Appointment,
    AppointmentStatus,
    Practice,
    Provider,
    Slot,
    open_slots,
)

MAX_APPOINTMENTS_A_DAY = 1000
"""Far more than a practice books in a day; a bound, not a page."""


@dataclass(frozen=True, slots=True)
class ProviderDay:
    provider: Provider
    appointments: list[Appointment]
    """Booked appointments starting that day, by start time."""
    free: list[Slot]
    """Bookable starts (for the provider's shortest service), by start time."""


@dataclass(frozen=True, slots=True)
class DayPlan:
    day: date
    providers: list[ProviderDay]


class DayScheduleHandler:
    """The day `day` (the practice's local date): each provider's booked appointments and
    free slots. Free slots follow the booking rules (not in the past, not beyond the
    horizon, not on closures), shown for the provider's shortest service so every free
    start appears. Reads only, one unit of work."""

    def __init__(self, practice: Practice, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._practice, self._uow, self._clock = practice, uow, clock

    def today(self) -> date:
        return self._clock.now().astimezone(self._practice.time_zone).date()

    async def __call__(self, day: date) -> DayPlan:
        practice, now = self._practice, self._clock.now()
        zone = practice.time_zone
        start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
        providers = list(practice.providers.values())
        async with self._uow() as uow:
            page = await uow.appointments.find(
                AppointmentQuery(
                    status=AppointmentStatus.BOOKED,
                    starts_from=start,
                    starts_before=end,
                    limit=MAX_APPOINTMENTS_A_DAY,
                )
            )
            busy = await uow.appointments.busy_between(
                [p.id for p in providers], max(start, now), end
            )
        days = []
        for provider in providers:
            shortest = min(provider.service_ids, key=lambda s: (practice.service(s).duration, s))
            free = open_slots(
                practice,
                service_id=shortest,
                provider_id=provider.id,
                start=start,
                end=end,
                now=now,
                busy=busy,
                limit=MAX_APPOINTMENTS_A_DAY,
            )
            mine = [a for a in page.items if a.slot.provider_id == provider.id]
            days.append(ProviderDay(provider, mine, free))
        return DayPlan(day, days)
