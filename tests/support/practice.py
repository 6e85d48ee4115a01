"""A small practice for tests, built in code so tests don't depend on the practice file.

Mon-Fri 09:00-17:00 in New York; `dr-lee` offers cleanings (30 min) and checkups
(15 min), `dr-kim` cleanings only. `MONDAY` is a Monday inside the horizon of
`NOW`, so the slots tests book are always in the future.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.scheduling import OpenInterval, Practice, Provider, Service, Weekday, slot_id

ZONE = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday, 10:00 in New York
MONDAY = date(2026, 11, 23)


def make_practice() -> Practice:
    workday = (OpenInterval(time(9), time(17)),)
    return Practice(
        name="Test Dental",
        time_zone=ZONE,
        hours={day: workday for day in Weekday if day < Weekday.SATURDAY},
        services={
            "cleaning": Service("cleaning", "Cleaning", timedelta(minutes=30)),
            "checkup": Service("checkup", "Checkup", timedelta(minutes=15)),
        },
        providers={
            "dr-lee": Provider("dr-lee", "Dr. Lee", "Dentist", frozenset({"cleaning", "checkup"})),
            "dr-kim": Provider("dr-kim", "Dr. Kim", "Hygienist", frozenset({"cleaning"})),
        },
        booking_horizon=timedelta(days=60),
        default_region="US",
    )


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """An instant at wall-clock `hour:minute` on `day` in the practice's zone, in UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE).astimezone(UTC)


def slot_at(provider_id: str, day: date, hour: int, minute: int = 0) -> str:
    return slot_id(provider_id, local(day, hour, minute))
